using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Ebpf.Cli;

/// <summary>
/// An aligned plain-text table: a header row and data rows, columns separated by two spaces, no trailing blanks.
/// A row can carry detail lines, printed under it with the row's indentation plus two spaces (verifier logs, inner
/// maps, ...). Numeric columns can be right-aligned. The last column is never padded.
/// </summary>
internal sealed class TextTable
{
    private readonly string[] _headers;
    private readonly bool[] _rightAlign;
    private readonly List<Row> _rows = new List<Row>();

    private sealed class Row
    {
        public Row(string[] cells) => Cells = cells;
        public string[] Cells { get; }
        public List<string> Details { get; } = new List<string>();
    }

    public TextTable(params string[] headers)
    {
        _headers = headers ?? throw new ArgumentNullException(nameof(headers));
        _rightAlign = new bool[headers.Length];
    }

    public int Count => _rows.Count;

    /// <summary>Right-aligns a column (numbers).</summary>
    public TextTable AlignRight(int column)
    {
        _rightAlign[column] = true;
        return this;
    }

    public TextTable Add(params string?[] cells)
    {
        if (cells.Length != _headers.Length)
            throw new ArgumentException($"expected {_headers.Length} cells, got {cells.Length}", nameof(cells));
        var copy = new string[cells.Length];
        for (int i = 0; i < cells.Length; i++)
            copy[i] = cells[i] ?? string.Empty;
        _rows.Add(new Row(copy));
        return this;
    }

    /// <summary>Adds a detail line under the last row (multi-line text is split).</summary>
    public TextTable Detail(string text)
    {
        if (_rows.Count == 0)
            throw new InvalidOperationException("no row to attach a detail line to");
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
            _rows[_rows.Count - 1].Details.Add(line);
        return this;
    }

    /// <summary>Writes the table, each line prefixed with <paramref name="indent"/>.</summary>
    public void Write(TextWriter output, string indent = "")
    {
        int n = _headers.Length;
        var widths = new int[n];
        for (int c = 0; c < n; c++)
            widths[c] = _headers[c].Length;
        foreach (var r in _rows)
            for (int c = 0; c < n; c++)
                widths[c] = Math.Max(widths[c], r.Cells[c].Length);
        WriteLine(output, indent, _headers, widths);
        foreach (var r in _rows)
        {
            WriteLine(output, indent, r.Cells, widths);
            foreach (var d in r.Details)
                output.Write(d.Length == 0 ? "\n" : indent + "  " + d + "\n");
        }
    }

    private void WriteLine(TextWriter output, string indent, string[] cells, int[] widths)
    {
        var sb = new StringBuilder(indent);
        for (int c = 0; c < cells.Length; c++)
        {
            if (c > 0)
                sb.Append("  ");
            string s = cells[c];
            bool last = c == cells.Length - 1;
            if (_rightAlign[c])
                sb.Append(' ', widths[c] - s.Length).Append(s);
            else if (last)
                sb.Append(s);
            else
                sb.Append(s).Append(' ', widths[c] - s.Length);
        }
        output.Write(sb.ToString().TrimEnd());
        output.Write('\n');
    }
}
