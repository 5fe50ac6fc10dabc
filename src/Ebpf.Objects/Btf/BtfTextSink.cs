using System;
using System.IO;
using System.Text;

namespace Ebpf.Btf;

/// <summary>
/// A buffered, allocation-free text writer for the BTF dumpers: names are decoded straight from the string
/// section into a char buffer, numbers are formatted by hand (culture-invariant by construction), and the
/// buffer is handed to the <see cref="TextWriter"/> in large blocks.
/// </summary>
internal sealed class BtfTextSink
{
    private const int Capacity = 1 << 15;
    private readonly TextWriter _writer;
    private readonly char[] _buf = new char[Capacity];
    private int _len;
    private long _written;

    public BtfTextSink(TextWriter writer) => _writer = writer ?? throw new ArgumentNullException(nameof(writer));

    /// <summary>
    /// Most characters this sink may write. Malformed BTF can describe text far larger than itself (a member 2^32
    /// bits away is that many bits of padding; anonymous types nested with fan-out are written inline at every use);
    /// past the limit writing fails with a <see cref="BtfFormatException"/> instead of running for minutes.
    /// </summary>
    public long Limit { get; set; } = long.MaxValue;

    /// <summary>A limit proportional to the BTF being rendered: 16 Mi characters plus 32 per byte.</summary>
    public static long LimitFor(BtfSpec spec)
    {
        long bytes = 0;
        for (var s = spec; s != null; s = s.Base)
            bytes += s.OwnTypeSection.Length + s.OwnStrings.Length;
        return (16L << 20) + 32 * bytes;
    }

    private void Count(long n)
    {
        _written += n;
        if (_written > Limit)
            throw new BtfFormatException(-1, $"the text for this BTF exceeds {Limit} characters: its types describe far more than the BTF holds (a huge gap padded bit by bit, or anonymous types nested so that inlining them multiplies)");
    }

    private void Reserve(int n)
    {
        if (_len + n > _buf.Length)
        {
            Flush();
            if (n > _buf.Length)
                throw new InvalidOperationException("BtfTextSink: single write larger than the buffer");
        }
    }

    public void Flush()
    {
        if (_len > 0)
        {
            Count(_len);
            _writer.Write(_buf, 0, _len);
            _len = 0;
        }
    }

    public void Append(char c)
    {
        if (_len == _buf.Length) Flush();
        _buf[_len++] = c;
    }

    public void Append(char c, int count)
    {
        for (int i = 0; i < count; i++)
            Append(c);
    }

    public void Append(string s)
    {
        if (s.Length > _buf.Length / 2)
        {
            Flush();
            Count(s.Length);
            _writer.Write(s);
            return;
        }
        Reserve(s.Length);
        s.CopyTo(0, _buf, _len, s.Length);
        _len += s.Length;
    }

    /// <summary>Appends UTF-8 text (a BTF string) without allocating.</summary>
    public unsafe void AppendUtf8(ReadOnlySpan<byte> s)
    {
        if (s.Length > _buf.Length / 2)
        {
            Flush();
            Count(s.Length);
            _writer.Write(Utf8.Decode(s));
            return;
        }
        Reserve(s.Length);
        int i = 0;
        for (; i < s.Length; i++)
        {
            byte b = s[i];
            if (b >= 0x80) break;
            _buf[_len + i] = (char)b;
        }
        if (i == s.Length)
        {
            _len += s.Length;
            return;
        }
        // Non-ASCII: decode the whole string (UTF-8 never yields more chars than bytes).
        fixed (byte* src = s)
        fixed (char* dst = &_buf[_len])
            _len += Encoding.UTF8.GetChars(src, s.Length, dst, _buf.Length - _len);
    }

    public void AppendUInt(ulong v)
    {
        Reserve(20);
        if (v < 10)
        {
            _buf[_len++] = (char)('0' + (int)v);
            return;
        }
        int digits = 0;
        for (ulong t = v; t != 0; t /= 10) digits++;
        int end = _len + digits;
        for (int p = end - 1; p >= _len; p--)
        {
            _buf[p] = (char)('0' + (int)(v % 10));
            v /= 10;
        }
        _len = end;
    }

    public void AppendInt(long v)
    {
        if (v < 0)
        {
            Append('-');
            AppendUInt(unchecked((ulong)(-(v + 1)) + 1));
        }
        else
        {
            AppendUInt((ulong)v);
        }
    }

    /// <summary>Lower-case hex without prefix.</summary>
    public void AppendHex(ulong v)
    {
        Reserve(16);
        int digits = 1;
        for (ulong t = v >> 4; t != 0; t >>= 4) digits++;
        int end = _len + digits;
        for (int p = end - 1; p >= _len; p--)
        {
            int d = (int)(v & 0xf);
            _buf[p] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
            v >>= 4;
        }
        _len = end;
    }
}
