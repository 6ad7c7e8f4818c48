using Spectre.Console;

namespace BpfSim.Cli;

/// <summary>A Spectre console over a writer: colours only on a real terminal, and wide enough for result tables.</summary>
public static class Terminal
{
    public static IAnsiConsole Create(TextWriter writer)
    {
        bool isTerminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        console.Profile.Width = Math.Max(console.Profile.Width, 120);
        return console;
    }
}
