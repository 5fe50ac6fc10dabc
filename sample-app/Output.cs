using System;
using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.IO;
using System.Text.Json;

namespace ExecSnoop;

/// <summary>
/// Formats events as an aligned table or JSON lines, straight into a UTF-8 buffer that goes to stdout in large
/// writes: no string and no system call per event. On a terminal every batch of events is shown at once; into a
/// file or a pipe the buffer is written when it is full, when the tracer goes idle and at least once a second (C's
/// stdio holds a block until it is full, however long that takes).
/// </summary>
internal sealed class Output
{
    private const int FlushAt = 60 * 1024;
    private const long MaxHoldMs = 1000;
    private readonly Stream _out;
    private readonly bool _interactive;
    private long _lastFlush = Environment.TickCount64;
    private readonly bool _json;
    private readonly ArrayBufferWriter<byte> _buffer = new ArrayBufferWriter<byte>(64 * 1024);
    private readonly Utf8JsonWriter _jsonWriter;
    // The clock, read per event (vDSO) and converted to local time once per second.
    private long _utcSecond = long.MinValue;
    private TimeSpan _offset;
    private readonly byte[] _hhmmss = new byte[8];

    public Output(Stream stdout, bool interactive, bool json)
    {
        _out = stdout;
        _interactive = interactive;
        _json = json;
        _jsonWriter = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public void Header()
    {
        Append("TIME     EVENT COMM             PID     PPID    FILENAME/EXIT CODE\n"u8);
        Flush();
    }

    public void Write(in ExecSnoopSkeleton.Event e)
    {
        DateTime utc = DateTime.UtcNow;
        long second = utc.Ticks / TimeSpan.TicksPerSecond;
        if (second != _utcSecond)
            NewSecond(utc, second);
        if (_json)
            WriteJson(in e, utc);
        else
            WriteRow(in e);
        if (_buffer.WrittenCount >= FlushAt)
            Flush();
    }

    private void NewSecond(DateTime utc, long second)
    {
        _utcSecond = second;
        _offset = TimeZoneInfo.Local.GetUtcOffset(utc);
        var local = new DateTime(utc.Ticks + _offset.Ticks, DateTimeKind.Unspecified);
        local.TryFormat(_hhmmss, out _, "HH:mm:ss", CultureInfo.InvariantCulture);
    }

    private void WriteRow(in ExecSnoopSkeleton.Event e)
    {
        // TIME(8) EVENT(5) COMM(16) PID(7) PPID(7) FILENAME (up to 126 bytes) or [code] (lifetime): under 256 bytes
        Span<byte> line = _buffer.GetSpan(256);
        int n = 0;
        Put(line, ref n, _hhmmss);
        line[n++] = (byte)' ';
        Put(line, ref n, e.ExitEvent ? "EXIT  "u8 : "EXEC  "u8);
        PutPadded(line, ref n, CString(e.Comm), 16);
        PutNumber(line, ref n, e.Pid, 7);
        PutNumber(line, ref n, e.Ppid, 7);
        if (e.ExitEvent)
        {
            line[n++] = (byte)'[';
            Utf8Formatter.TryFormat(e.ExitCode, line.Slice(n), out int w);
            n += w;
            line[n++] = (byte)']';
            if (e.DurationNs > 0)
            {
                Put(line, ref n, " ("u8);
                PutDuration(line, ref n, e.DurationNs);
                line[n++] = (byte)')';
            }
        }
        else
        {
            Put(line, ref n, CString(e.Filename));
        }
        line[n++] = (byte)'\n';
        _buffer.Advance(n);
    }

    private void WriteJson(in ExecSnoopSkeleton.Event e, DateTime utc)
    {
        var w = _jsonWriter;
        w.Reset();
        w.WriteStartObject();
        Span<byte> time = stackalloc byte[40];
        new DateTimeOffset(utc.Ticks + _offset.Ticks, _offset).TryFormat(time, out int tn, "O", CultureInfo.InvariantCulture);
        w.WriteString("time"u8, time.Slice(0, tn));
        w.WriteString("event"u8, e.ExitEvent ? "exit"u8 : "exec"u8);
        w.WriteNumber("pid"u8, e.Pid);
        w.WriteNumber("ppid"u8, e.Ppid);
        WriteText(w, "comm"u8, CString(e.Comm));
        if (e.ExitEvent)
        {
            w.WriteNumber("exit_code"u8, e.ExitCode);
            w.WriteNumber("duration_ns"u8, e.DurationNs);
        }
        else
        {
            WriteText(w, "filename"u8, CString(e.Filename));
        }
        w.WriteEndObject();
        w.Flush();
        Append("\n"u8);
    }

    /// <summary>Kernel strings are bytes: valid UTF-8 is written as is, anything else decoded with replacement characters.</summary>
    private static void WriteText(Utf8JsonWriter w, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (System.Text.Unicode.Utf8.IsValid(value))
            w.WriteString(name, value);
        else
            w.WriteString(name, System.Text.Encoding.UTF8.GetString(value));
    }

    /// <summary>After a batch of events (<paramref name="handled"/> of them; 0: the wait timed out, the tracer is idle).</summary>
    public void EndOfBatch(int handled)
    {
        if (_interactive || handled == 0 || Environment.TickCount64 - _lastFlush >= MaxHoldMs)
            Flush();
    }

    /// <summary>Writes the buffered lines to stdout (one write) and empties the buffer.</summary>
    public void Flush()
    {
        _lastFlush = Environment.TickCount64;
        if (_buffer.WrittenCount == 0)
            return;
        _out.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.GetSpan(bytes.Length));
        _buffer.Advance(bytes.Length);
    }

    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return end < 0 ? bytes : bytes.Slice(0, end);
    }

    private static void Put(Span<byte> line, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(line.Slice(n));
        n += bytes.Length;
    }

    /// <summary>Left-aligned in <paramref name="width"/> columns, then one space (like {x,-width} and a separator).</summary>
    private static void PutPadded(Span<byte> line, ref int n, ReadOnlySpan<byte> bytes, int width)
    {
        Put(line, ref n, bytes);
        for (int i = bytes.Length; i < width; i++) line[n++] = (byte)' ';
        line[n++] = (byte)' ';
    }

    private static void PutNumber(Span<byte> line, ref int n, int value, int width)
    {
        Span<byte> digits = stackalloc byte[11];
        Utf8Formatter.TryFormat(value, digits, out int w);
        PutPadded(line, ref n, digits.Slice(0, w), width);
    }

    /// <summary>s, ms or us with up to three decimals (rounded half up), trailing zeros dropped: 1.5ms, 2.316ms, 731us.</summary>
    private static void PutDuration(Span<byte> line, ref int n, ulong ns)
    {
        ulong unit = ns >= 1_000_000_000 ? 1_000_000_000UL : ns >= 1_000_000 ? 1_000_000UL : 1_000UL;
        ulong thousandths = (ns + unit / 2000) / (unit / 1000);
        Utf8Formatter.TryFormat(thousandths / 1000, line.Slice(n), out int w);
        n += w;
        uint frac = (uint)(thousandths % 1000);
        if (frac != 0)
        {
            line[n++] = (byte)'.';
            line[n++] = (byte)('0' + frac / 100);
            if (frac % 100 != 0)
            {
                line[n++] = (byte)('0' + frac / 10 % 10);
                if (frac % 10 != 0)
                    line[n++] = (byte)('0' + frac % 10);
            }
        }
        Put(line, ref n, unit == 1_000_000_000 ? "s"u8 : unit == 1_000_000 ? "ms"u8 : "us"u8);
    }
}
