using System.Globalization;
using System.Text;

namespace BpfSim.Studies.Scenarios;

/// <summary>What a <see cref="LenientJsonNode"/> holds.</summary>
public enum LenientJsonKind
{
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// <summary>
/// A value of a lenient JSON document with where it starts (1-based line and column). Objects keep their members in
/// order, duplicates included: rt-app files repeat event keys ("run", "sleep", "run" …) and mean each one.
/// </summary>
public sealed class LenientJsonNode(LenientJsonKind kind, int line, int column)
{
    public LenientJsonKind Kind { get; } = kind;
    public int Line { get; } = line;
    public int Column { get; } = column;
    public List<(string Key, LenientJsonNode KeyNode, LenientJsonNode Value)> Members { get; } = [];
    public List<LenientJsonNode> Items { get; } = [];
    public string Text { get; init; } = "";
    public double Number { get; init; }

    public string Describe() => Kind switch
    {
        LenientJsonKind.Object => "an object",
        LenientJsonKind.Array => "an array",
        LenientJsonKind.String => $"the string \"{Text}\"",
        LenientJsonKind.Number => $"the number {Text}",
        LenientJsonKind.Null => "null",
        _ => Kind == LenientJsonKind.True ? "true" : "false",
    };
}

/// <summary>
/// Reads JSON in the lenient dialect rt-app's files are written in (json-c accepts it): <c>//</c> and <c>/* */</c>
/// comments and trailing commas in objects and arrays. Every error names the line and column where it is.
/// Iterative depth is bounded (<see cref="ScenarioLimits.MaxDepth"/>), so no input can exhaust the stack.
/// </summary>
public sealed class LenientJson
{
    private readonly string _text;
    private readonly string _file;
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    private LenientJson(string text, string file)
    {
        _text = text;
        _file = file;
    }

    /// <exception cref="ScenarioException">The text is not (lenient) JSON.</exception>
    public static LenientJsonNode Parse(string text, string file)
    {
        var reader = new LenientJson(text, file);
        var root = reader.Value(0);
        reader.Skip();
        if (reader._pos < text.Length)
        {
            throw reader.Error("more after the end of the document");
        }
        return root;
    }

    private int Column => _pos - _lineStart + 1;

    private ScenarioException Error(string message) => Error(_line, Column, message);

    private ScenarioException Error(int line, int column, string message) =>
        new([new ScenarioError(_file, line, column, $"not valid rt-app JSON: {message}")]);

    private void Advance()
    {
        if (_text[_pos] == '\n')
        {
            _line++;
            _lineStart = _pos + 1;
        }
        _pos++;
    }

    /// <summary>Skips whitespace and comments.</summary>
    private void Skip()
    {
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                Advance();
            }
            else if (c == '/' && _pos + 1 < _text.Length && _text[_pos + 1] == '/')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    Advance();
                }
            }
            else if (c == '/' && _pos + 1 < _text.Length && _text[_pos + 1] == '*')
            {
                int line = _line, column = Column;
                Advance();
                Advance();
                while (_pos < _text.Length && !(_text[_pos] == '*' && _pos + 1 < _text.Length && _text[_pos + 1] == '/'))
                {
                    Advance();
                }
                if (_pos >= _text.Length)
                {
                    throw Error(line, column, "a /* comment is not closed");
                }
                Advance();
                Advance();
            }
            else
            {
                return;
            }
        }
    }

    private LenientJsonNode Value(int depth)
    {
        Skip();
        if (_pos >= _text.Length)
        {
            throw Error("the document ends where a value was expected");
        }
        if (depth >= ScenarioLimits.MaxDepth)
        {
            throw Error($"nested more than {ScenarioLimits.MaxDepth} levels deep");
        }
        int line = _line, column = Column;
        char c = _text[_pos];
        switch (c)
        {
            case '{':
                return Container(new LenientJsonNode(LenientJsonKind.Object, line, column), '}', depth);
            case '[':
                return Container(new LenientJsonNode(LenientJsonKind.Array, line, column), ']', depth);
            case '"':
                return new LenientJsonNode(LenientJsonKind.String, line, column) { Text = String() };
        }
        if (c == '-' || char.IsAsciiDigit(c))
        {
            int start = _pos;
            while (_pos < _text.Length && (char.IsAsciiDigit(_text[_pos]) || _text[_pos] is '-' or '+' or '.' or 'e' or 'E'))
            {
                Advance();
            }
            string number = _text[start.._pos];
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            {
                throw Error(line, column, $"'{number}' is not a number");
            }
            return new LenientJsonNode(LenientJsonKind.Number, line, column) { Text = number, Number = v };
        }
        foreach (var (word, kind) in new[] { ("true", LenientJsonKind.True), ("false", LenientJsonKind.False), ("null", LenientJsonKind.Null) })
        {
            if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0)
            {
                for (int i = 0; i < word.Length; i++)
                {
                    Advance();
                }
                return new LenientJsonNode(kind, line, column) { Text = word };
            }
        }
        throw Error($"unexpected '{c}' where a value was expected");
    }

    /// <summary>An object or array: members or items separated by commas, a trailing comma allowed.</summary>
    private LenientJsonNode Container(LenientJsonNode node, char close, int depth)
    {
        Advance(); // the opening bracket
        while (true)
        {
            Skip();
            if (_pos >= _text.Length)
            {
                throw Error(node.Line, node.Column, $"this {(close == '}' ? "object" : "array")} is not closed (missing '{close}')");
            }
            if (_text[_pos] == close)
            {
                Advance();
                return node;
            }
            if (close == '}')
            {
                if (_text[_pos] != '"')
                {
                    throw Error($"expected a member name in double quotes or '}}', not '{_text[_pos]}'");
                }
                var key = new LenientJsonNode(LenientJsonKind.String, _line, Column) { Text = String() };
                Skip();
                if (_pos >= _text.Length || _text[_pos] != ':')
                {
                    throw Error($"expected ':' after \"{key.Text}\"");
                }
                Advance();
                node.Members.Add((key.Text, key, Value(depth + 1)));
            }
            else
            {
                node.Items.Add(Value(depth + 1));
            }
            Skip();
            if (_pos < _text.Length && _text[_pos] == ',')
            {
                Advance();
            }
            else if (_pos < _text.Length && _text[_pos] != close)
            {
                throw Error($"expected ',' or '{close}', not '{_text[_pos]}'");
            }
        }
    }

    private string String()
    {
        int line = _line, column = Column;
        Advance(); // the opening quote
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length || _text[_pos] == '\n')
            {
                throw Error(line, column, "a string is not closed (missing '\"')");
            }
            char c = _text[_pos];
            if (c == '"')
            {
                Advance();
                return sb.ToString();
            }
            if (c == '\\')
            {
                Advance();
                if (_pos >= _text.Length)
                {
                    continue;
                }
                char e = _text[_pos];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u' when _pos + 4 < _text.Length && int.TryParse(_text.AsSpan(_pos + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int u):
                        sb.Append((char)u);
                        for (int i = 0; i < 4; i++)
                        {
                            Advance();
                        }
                        break;
                    case '"' or '\\' or '/': sb.Append(e); break;
                    default: throw Error($"unknown escape '\\{e}' in a string");
                }
                Advance();
                continue;
            }
            sb.Append(c);
            Advance();
        }
    }
}
