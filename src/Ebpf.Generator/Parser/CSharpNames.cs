using System;
using System.Collections.Generic;
using System.Text;

namespace Ebpf.Generator.Parser;

/// <summary>
/// How C names become C# names. Rules (also in the README):
/// <list type="bullet">
/// <item>Words are split at '_', '.', '-' and other non-identifier characters; each word gets an upper-case first letter;
/// a word that is all upper case (<c>TASK</c>, <c>HZ</c>) is lower-cased after its first letter:
/// <c>exit_code</c> → <c>ExitCode</c>, <c>__data_loc_filename</c> → <c>DataLocFilename</c>, <c>TASK_RUNNING</c> →
/// <c>TaskRunning</c>, <c>sk_buff</c> → <c>SkBuff</c>, <c>.data.custom</c> → <c>DataCustom</c>.</item>
/// <item>A name that would start with a digit gets a leading '_'; an empty one becomes '_'.</item>
/// <item>Keywords are escaped with '@' (only possible for names kept verbatim: class names and namespaces given in metadata).</item>
/// <item>Object names: <c>exec_snoop.bpf.o</c> → <c>ExecSnoopSkeleton</c>.</item>
/// </list>
/// </summary>
internal static class CSharpNames
{
    private static readonly HashSet<string> Keywords = new HashSet<string>(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while",
    };

    public static bool IsKeyword(string name) => Keywords.Contains(name);

    /// <summary>Escapes a keyword with '@'.</summary>
    public static string Escape(string identifier) => IsKeyword(identifier) ? "@" + identifier : identifier;

    public static string ToPascalCase(string name)
    {
        var sb = new StringBuilder(name.Length);
        int i = 0;
        while (i < name.Length)
        {
            while (i < name.Length && !IsWordChar(name[i])) i++;
            int start = i;
            while (i < name.Length && IsWordChar(name[i])) i++;
            if (i > start)
                AppendWord(sb, name, start, i - start);
        }
        if (sb.Length == 0)
            return "_";
        if (char.IsDigit(sb[0]))
            sb.Insert(0, '_');
        return sb.ToString();
    }

    private static bool IsWordChar(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c > 127 && char.IsLetterOrDigit(c));

    private static void AppendWord(StringBuilder sb, string s, int start, int length)
    {
        bool allUpper = true;
        bool anyLetter = false;
        for (int k = start; k < start + length; k++)
        {
            char c = s[k];
            if (char.IsLetter(c))
            {
                anyLetter = true;
                if (!char.IsUpper(c)) allUpper = false;
            }
        }
        bool lowerRest = anyLetter && allUpper && length > 1;
        sb.Append(char.ToUpperInvariant(s[start]));
        for (int k = start + 1; k < start + length; k++)
            sb.Append(lowerRest ? char.ToLowerInvariant(s[k]) : s[k]);
    }

    /// <summary>The C name's leading underscores followed by its PascalCase form (<c>__f_path</c> → <c>__FPath</c>), or null when it has none.</summary>
    public static string? WithLeadingUnderscores(string cName, string pascal)
    {
        int n = 0;
        while (n < cName.Length && cName[n] == '_') n++;
        if (n == 0) return null;
        return new string('_', n) + (pascal.Length > 0 && pascal[0] == '_' ? pascal.Substring(1) : pascal);
    }

    public static int LeadingUnderscores(string cName)
    {
        int n = 0;
        while (n < cName.Length && cName[n] == '_') n++;
        return n;
    }

    /// <summary>The quiet alternatives for a name that is taken: the C name's leading underscores kept.</summary>
    public static string[] Alternatives(string cName, string pascal)
    {
        var u = WithLeadingUnderscores(cName, pascal);
        return u is null ? System.Array.Empty<string>() : new[] { u };
    }

    /// <summary>The default skeleton class name for an object name: <c>exec_snoop</c> → <c>ExecSnoopSkeleton</c>.</summary>
    public static string SkeletonClassName(string objectName) => ToPascalCase(objectName) + "Skeleton";

    public static bool IsValidIdentifier(string name)
    {
        if (string.IsNullOrEmpty(name)) return false;
        int i = name[0] == '@' ? 1 : 0;
        if (i >= name.Length) return false;
        char first = name[i];
        if (!(char.IsLetter(first) || first == '_')) return false;
        for (i++; i < name.Length; i++)
        {
            char c = name[i];
            if (!(char.IsLetterOrDigit(c) || c == '_')) return false;
        }
        return true;
    }

    /// <summary>Validates a dotted namespace and escapes keyword parts (<c>My.event</c> → <c>My.@event</c>); null when invalid.</summary>
    public static string? NormalizeNamespace(string ns)
    {
        if (ns.StartsWith("global::", StringComparison.Ordinal))
            ns = ns.Substring("global::".Length);
        var parts = ns.Split('.');
        for (int i = 0; i < parts.Length; i++)
        {
            var p = parts[i].Trim();
            if (!IsValidIdentifier(p)) return null;
            parts[i] = p[0] == '@' ? p : Escape(p);
        }
        return string.Join(".", parts);
    }

    /// <summary>A string literal with C# escapes.</summary>
    public static string Literal(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\0': sb.Append("\\0"); break;
                default:
                    if (c < 32 || c == 0x7f || c == '\u2028' || c == '\u2029')
                        sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>A C declaration for docs: <c>char[16]</c> + <c>comm</c> → <c>char comm[16]</c>; <c>struct event *</c> + <c>e</c> → <c>struct event *e</c>.</summary>
    public static string Declaration(string cType, string name)
    {
        int bracket = cType.IndexOf('[');
        if (bracket >= 0)
            return Declaration(cType.Substring(0, bracket), name) + cType.Substring(bracket);
        return cType.EndsWith("*", StringComparison.Ordinal) ? cType + name : cType + " " + name;
    }

    /// <summary>Text safe inside an XML doc comment.</summary>
    public static string XmlText(string value) =>
        value.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\r", " ").Replace("\n", " ");
}

/// <summary>
/// One C# declaration space (a type's members, or the skeleton's nested types and properties): hands out unique
/// names and reports collisions.
/// </summary>
internal sealed class NameScope
{
    private readonly Dictionary<string, string> _taken = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Marks a name as used by something that is not from the object (a skeleton member).</summary>
    public void Reserve(string name, string owner)
    {
        if (!_taken.ContainsKey(name))
            _taken.Add(name, owner);
    }

    public bool IsTaken(string name) => _taken.ContainsKey(name);

    /// <summary>
    /// Returns <paramref name="proposed"/> when free, else <paramref name="proposed"/> followed by 2, 3, ...;
    /// <paramref name="collision"/> then says who had it.
    /// </summary>
    public string Allocate(string proposed, string owner, out string? collision, params string[] alternatives)
    {
        collision = null;
        if (!_taken.TryGetValue(proposed, out var other) && !IsReservedPattern(proposed))
        {
            _taken.Add(proposed, owner);
            return proposed;
        }
        // Quiet alternatives first (the C name's leading underscores kept, "Value" after a type's own name).
        foreach (var alt in alternatives)
        {
            if (!_taken.ContainsKey(alt) && !IsReservedPattern(alt))
            {
                _taken.Add(alt, owner);
                return alt;
            }
        }
        collision = other ?? "a generated inline array type";
        string stem = IsReservedPattern(proposed) ? proposed + "_" : proposed;
        for (int n = 2; ; n++)
        {
            string candidate = stem + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!_taken.ContainsKey(candidate) && !IsReservedPattern(candidate))
            {
                _taken.Add(candidate, owner);
                return candidate;
            }
        }
    }

    /// <summary>Set for the skeleton's type scope: InlineArrayN names belong to the generated inline arrays.</summary>
    public bool ReserveInlineArrayNames { get; set; }

    private bool IsReservedPattern(string name)
    {
        if (!ReserveInlineArrayNames || !name.StartsWith("InlineArray", StringComparison.Ordinal) || name.Length == "InlineArray".Length)
            return false;
        for (int i = "InlineArray".Length; i < name.Length; i++)
            if (!char.IsDigit(name[i])) return false;
        return true;
    }
}
