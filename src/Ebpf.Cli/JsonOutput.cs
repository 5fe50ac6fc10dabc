using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ebpf.Cli;

/// <summary>
/// Writes JSON with <see cref="Utf8JsonWriter"/> (no reflection: AOT- and trim-safe). Keys appear in the order they
/// are written; strings are escaped minimally (type names like "struct &lt;anon&gt;" stay readable).
/// </summary>
internal static class JsonOutput
{
    private static readonly JsonWriterOptions s_compact = new JsonWriterOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private static readonly JsonWriterOptions s_indented = new JsonWriterOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = true,
    };

    /// <summary>Writes one JSON value built by <paramref name="build"/>, then a newline (one JSON Lines record unless indented).</summary>
    public static void WriteLine(TextWriter output, Action<Utf8JsonWriter> build, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, indented ? s_indented : s_compact))
            build(w);
        output.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        output.Write('\n');
    }

    public static void StringOrNull(this Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
            w.WriteNull(name);
        else
            w.WriteString(name, value);
    }

    public static void NumberOrNull(this Utf8JsonWriter w, string name, long? value)
    {
        if (value is null)
            w.WriteNull(name);
        else
            w.WriteNumber(name, value.Value);
    }
}
