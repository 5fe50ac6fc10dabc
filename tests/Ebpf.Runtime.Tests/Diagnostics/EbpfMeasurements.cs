using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;

namespace Ebpf.Runtime.Tests.Diagnostics;

/// <summary>One measurement of an "Ebpf" instrument, with its tags.</summary>
public sealed record MeasuredValue(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string name) => Tags.TryGetValue(name, out var v) ? v?.ToString() : null;
}

/// <summary>A MeterListener on the "Ebpf" meter that keeps what it hears about one object.</summary>
public sealed class EbpfMeasurements : IDisposable
{
    private readonly MeterListener _listener = new MeterListener();
    private readonly ConcurrentQueue<MeasuredValue> _values = new ConcurrentQueue<MeasuredValue>();
    private readonly string _objectName;

    public EbpfMeasurements(string objectName)
    {
        _objectName = objectName;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == BpfMetrics.MeterName)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var t in tags) d[t.Key] = t.Value;
        if (d.TryGetValue("ebpf.object.name", out var o) && (o as string) == _objectName)
            _values.Enqueue(new MeasuredValue(instrument.Name, value, d));
    }

    /// <summary>Polls the observable instruments (program run statistics) once.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public IReadOnlyList<MeasuredValue> Of(string instrument) => _values.Where(v => v.Instrument == instrument).ToList();

    public long Sum(string instrument, Func<MeasuredValue, bool>? filter = null) =>
        (long)Of(instrument).Where(v => filter == null || filter(v)).Sum(v => v.Value);

    public void Clear()
    {
        while (_values.TryDequeue(out _)) { }
    }

    public void Dispose() => _listener.Dispose();
}
