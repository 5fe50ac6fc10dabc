using System;
using Microsoft.Extensions.Logging;

namespace ExecSnoop;

/// <summary>Prints the loader's information messages (which kernel BTF CO-RE used) and warnings to stderr.</summary>
internal sealed class StderrLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
            Console.Error.WriteLine("execsnoop: " + formatter(state, exception));
    }
}
