using System.Text;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// A JSON writer that puts out exactly what bpftool's does (tools/bpf/bpftool/json_writer.c): a separator state
/// (<c>sep</c>) and a nesting depth, and in pretty mode a new line indented four spaces per level before each name
/// and each closing bracket that follows something. <see cref="BtfDumper"/> writes through it, so bpfsim's BTF dumps
/// match bpftool's layout character for character.
/// </summary>
public sealed class BtfJsonWriter
{
    private readonly StringBuilder _out = new();
    private readonly bool _pretty;
    private int _depth;
    private char _sep;

    /// <param name="pretty">jsonw_pretty: new lines and indentation (bpftool's plain-mode BTF writer, get_btf_writer).</param>
    public BtfJsonWriter(bool pretty)
    {
        _pretty = pretty;
    }

    /// <summary>What has been written.</summary>
    public override string ToString() => _out.ToString();

    /// <summary>jsonw_start_object.</summary>
    public void StartObject() => Begin('{');

    /// <summary>jsonw_end_object.</summary>
    public void EndObject() => End('}');

    /// <summary>jsonw_start_array.</summary>
    public void StartArray() => Begin('[');

    /// <summary>jsonw_end_array.</summary>
    public void EndArray() => End(']');

    /// <summary>jsonw_name: a property name (and in pretty mode a space after its colon).</summary>
    public void Name(string name)
    {
        Eor();
        Eol();
        _sep = '\0';
        Puts(name);
        _out.Append(':');
        if (_pretty)
        {
            _out.Append(' ');
        }
    }

    /// <summary>jsonw_printf: <paramref name="raw"/> as it is (a number, or text the caller has quoted).</summary>
    public void Raw(string raw)
    {
        Eor();
        _out.Append(raw);
    }

    /// <summary>jsonw_string: a quoted string, escaped as jsonw_puts escapes.</summary>
    public void String(string value)
    {
        Eor();
        Puts(value);
    }

    /// <summary>jsonw_int (<c>%jd</c>).</summary>
    public void Int(long value) => Raw(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>jsonw_bool.</summary>
    public void Bool(bool value) => Raw(value ? "true" : "false");

    /// <summary>jsonw_destroy's closing new line (the writer must be back at depth 0).</summary>
    public void Finish()
    {
        if (_depth != 0)
        {
            throw new InvalidOperationException($"the JSON is still {_depth} level(s) deep");
        }
        _out.Append('\n');
    }

    private void Begin(char c)
    {
        Eor();
        _out.Append(c);
        _depth++;
        _sep = '\0';
    }

    private void End(char c)
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("no object or array is open");
        }
        _depth--;
        if (_sep != '\0')
        {
            Eol();
        }
        _out.Append(c);
        _sep = ',';
    }

    private void Eor()
    {
        if (_sep != '\0')
        {
            _out.Append(_sep);
        }
        _sep = ',';
    }

    private void Eol()
    {
        if (!_pretty)
        {
            return;
        }
        _out.Append('\n');
        _out.Append(' ', 4 * _depth);
    }

    private void Puts(string s)
    {
        _out.Append('"');
        foreach (char c in s)
        {
            _out.Append(c switch
            {
                '\t' => "\\t",
                '\n' => "\\n",
                '\r' => "\\r",
                '\f' => "\\f",
                '\b' => "\\b",
                '\\' => "\\\\",
                '"' => "\\\"",
                _ => c.ToString(),
            });
        }
        _out.Append('"');
    }
}
