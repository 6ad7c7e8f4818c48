using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// Reads a scenario's YAML as a flat event stream, without recursion, and refuses what would crash or exhaust the
/// node reader (YamlStream) and anything that walks its nodes: nesting deeper than <see cref="ScenarioLimits.MaxDepth"/>,
/// aliases to a node they are inside (YamlStream turns them into a cyclic graph; walking one, even to hash a key,
/// overflows the stack, which no handler can catch), aliases used before their anchor (resolved at the end of the
/// document, they can close a cycle too), more than <see cref="ScenarioLimits.MaxExpandedNodes"/> nodes with aliases
/// expanded (alias bombs), and keys that are not single values. Any error of the YAML library itself is reported
/// at the position it names, or where the reader had got to.
/// </summary>
public static class YamlGuard
{
    private sealed class Anchor(bool scalar)
    {
        public bool Scalar { get; } = scalar;
        public bool Open { get; set; } = !scalar;
        public long Size { get; set; } = 1;
    }

    private sealed class Frame(bool mapping, Anchor? anchor)
    {
        public bool Mapping { get; } = mapping;
        public Anchor? Anchor { get; } = anchor;
        public long Size { get; set; } = 1;
        /// <summary>Mappings alternate key, value: the next child is a key when the count so far is even.</summary>
        public int Children { get; set; }
    }

    /// <exception cref="ScenarioException">The YAML is malformed or hostile.</exception>
    public static void Check(string text, string file)
    {
        var scanner = new Scanner(new StringReader(text), skipComments: true);
        var parser = new Parser(scanner);
        var anchors = new Dictionary<string, Anchor>(StringComparer.Ordinal);
        var stack = new Stack<Frame>();
        long total = 0;
        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                switch (e)
                {
                    case DocumentStart:
                        anchors.Clear(); // anchors are per document
                        break;
                    case MappingStart or SequenceStart:
                        CheckKey(stack, e, scalar: false, file);
                        if (stack.Count >= ScenarioLimits.MaxDepth)
                        {
                            throw Error(file, e.Start, $"nested more than {ScenarioLimits.MaxDepth} levels deep");
                        }
                        var anchor = Define((NodeEvent)e, anchors, scalar: false);
                        stack.Push(new Frame(e is MappingStart, anchor));
                        Count(ref total, 1, e, file);
                        break;
                    case MappingEnd or SequenceEnd:
                        var done = stack.Pop();
                        if (done.Anchor is { } a)
                        {
                            a.Open = false;
                            a.Size = done.Size;
                        }
                        Add(stack, done.Size);
                        break;
                    case Scalar s:
                        CheckKey(stack, e, scalar: true, file);
                        Define(s, anchors, scalar: true);
                        Count(ref total, 1, e, file);
                        Add(stack, 1);
                        break;
                    case AnchorAlias alias:
                        string name = alias.Value.Value;
                        if (!anchors.TryGetValue(name, out var target))
                        {
                            throw Error(file, e.Start, $"alias *{name} comes before its anchor &{name} (or there is none)");
                        }
                        if (target.Open)
                        {
                            throw Error(file, e.Start, $"alias *{name} is inside the node it refers to (a cycle)");
                        }
                        CheckKey(stack, e, target.Scalar, file);
                        Count(ref total, target.Size, e, file);
                        Add(stack, target.Size);
                        break;
                }
            }
        }
        catch (ScenarioException)
        {
            throw;
        }
        catch (YamlException y)
        {
            throw Error(file, TabIndentation(text, Message(y)) ?? y.Start, $"not valid YAML: {Message(y)}");
        }
        catch (Exception x)
        {
            // YamlDotNet throws more than YamlException for some malformed input (InvalidOperationException from
            // the scanner on an unclosed flow collection, for one); report them all where the reader stopped.
            throw Error(file, scanner.CurrentPosition, x is InvalidOperationException
                ? "not valid YAML: the reader cannot continue here (is a '{' or '[' before it not closed?)"
                : $"not valid YAML: {x.Message}");
        }
    }

    internal static string Message(YamlException y) => y.InnerException?.Message ?? y.Message;

    /// <summary>
    /// For the reader's "invalid tab as indentation", which it reports at the start of the enclosing mapping (often
    /// 1:1), the first tab in a line's indentation: the place to fix.
    /// </summary>
    private static Mark? TabIndentation(string text, string message)
    {
        if (!message.Contains("tab", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            int tab = lines[i].IndexOf('\t', 0, indent);
            if (tab >= 0)
            {
                return new Mark(0, i + 1, tab + 1);
            }
        }
        return null;
    }

    private static Anchor? Define(NodeEvent e, Dictionary<string, Anchor> anchors, bool scalar)
    {
        if (e.Anchor.IsEmpty)
        {
            return null;
        }
        // A later anchor of the same name replaces the earlier one for the aliases after it, as in YamlStream.
        var anchor = new Anchor(scalar);
        anchors[e.Anchor.Value] = anchor;
        return anchor;
    }

    private static void CheckKey(Stack<Frame> stack, ParsingEvent e, bool scalar, string file)
    {
        if (!scalar && stack.TryPeek(out var parent) && parent.Mapping && parent.Children % 2 == 0)
        {
            throw Error(file, e.Start, "a key must be a single value, not a list or mapping");
        }
    }

    private static void Add(Stack<Frame> stack, long size)
    {
        if (stack.TryPeek(out var parent))
        {
            parent.Size += size;
            parent.Children++;
        }
    }

    private static void Count(ref long total, long size, ParsingEvent e, string file)
    {
        total += size;
        if (total > ScenarioLimits.MaxExpandedNodes)
        {
            throw Error(file, e.Start, $"more than {ScenarioLimits.MaxExpandedNodes:N0} nodes with aliases expanded (an alias bomb?)");
        }
    }

    internal static ScenarioException Error(string file, Mark mark, string message) =>
        new([new ScenarioError(file, Math.Max(1, (int)mark.Line), Math.Max(1, (int)mark.Column), message)]);
}
