using System.Text;

namespace Ebpf.Generator.Emitter;

/// <summary>A string builder with indentation and '\n' line ends (deterministic on every OS).</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new StringBuilder(16 * 1024);
    private int _indent;

    public void Indent() => _indent++;

    public void Unindent() => _indent--;

    public SourceWriter Line(string text = "")
    {
        if (text.Length != 0)
            _sb.Append(' ', _indent * 4).Append(text);
        _sb.Append('\n');
        return this;
    }

    public void Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
    }

    public void Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
    }

    public override string ToString() => _sb.ToString();
}
