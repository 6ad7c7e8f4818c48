using BpfSim.Studies.Sweeps;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Tests.Studies.Sweeps;

[Category("Sweep")]
public sealed class GridValueTextTests
{
    private static YamlNode Value(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader($"v: {yaml}\n"));
        return ((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("v")];
    }

    [TestCase("cubic", "cubic")]
    [TestCase("100Mbps", "100Mbps")]
    [TestCase("-3", "-3")]
    [TestCase("exp(1ms)", "\"exp(1ms)\"")]
    [TestCase("'a, b'", "\"a, b\"")]
    [TestCase("\"x: y # z\"", "\"x: y # z\"")]
    [TestCase("\"quote \\\" and \\\\\"", "\"quote \\\" and \\\\\"")]
    [TestCase("[1, {a: b}]", "[1, {a: b}]")]
    [TestCase("{ type: red, limit: 40 }", "{type: red, limit: 40}")]
    public void Yaml_Value_WrittenSoItReadsBackTheSameInAFlowContext(string written, string expected)
    {
        var node = Value(written);
        string yaml = GridValueText.Yaml(node);
        Assert.That(yaml, Is.EqualTo(expected));
        // Put into a flow mapping, as many scenario lines are, it reads back as the same value.
        var back = Value($"{{ k: {yaml} }}") as YamlMappingNode;
        Assert.That(GridValueText.Yaml(back!.Children[new YamlScalarNode("k")]), Is.EqualTo(expected));
        Assert.That(GridValueText.Cell(back.Children[new YamlScalarNode("k")]), Is.EqualTo(GridValueText.Cell(node)));
    }
}
