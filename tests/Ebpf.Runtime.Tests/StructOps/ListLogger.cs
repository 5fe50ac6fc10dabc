using System;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;

namespace Ebpf.Runtime.Tests.StructOps;

/// <summary>Keeps what the loader logs at Information and above, for failure messages.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<string> _lines = new List<string>();

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return _lines.ToArray(); }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        lock (_lines) _lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
