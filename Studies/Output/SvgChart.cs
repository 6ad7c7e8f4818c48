using System.Globalization;
using System.Net;
using System.Text;

namespace BpfSim.Studies.Output;

/// <summary>A line chart as inline SVG: labelled axes with units, a legend, one colour per series.</summary>
public sealed class SvgChart(string title, string xLabel, string yLabel)
{
    private static readonly string[] s_palette =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    private readonly List<(string Name, IReadOnlyList<(double X, double Y)> Points)> _series = [];
    private readonly List<(double X, string Label)> _marks = [];

    public void Add(string name, IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count > 0)
        {
            _series.Add((name, points));
        }
    }

    /// <summary>A vertical marker at <paramref name="x"/> (an event such as a consumer's ejection).</summary>
    public void Mark(double x, string label) => _marks.Add((x, label));

    public string Render(int width = 760, int height = 300)
    {
        const int left = 64, right = 150, top = 30, bottom = 44;
        int w = width - left - right, h = height - top - bottom;
        var sb = new StringBuilder();
        static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(title)}\">");
        sb.Append($"<text x=\"{width / 2}\" y=\"18\" text-anchor=\"middle\" font-weight=\"bold\">{WebUtility.HtmlEncode(title)}</text>");
        if (_series.Count == 0)
        {
            sb.Append($"<text x=\"{width / 2}\" y=\"{height / 2}\" text-anchor=\"middle\">no data</text></svg>");
            return sb.ToString();
        }
        double xMin = _series.Min(s => s.Points.Min(p => p.X)), xMax = _series.Max(s => s.Points.Max(p => p.X));
        double yMax = _series.Max(s => s.Points.Max(p => p.Y));
        if (xMax <= xMin)
        {
            xMax = xMin + 1;
        }
        yMax = yMax <= 0 ? 1 : Nice(yMax);
        double X(double x) => left + (x - xMin) / (xMax - xMin) * w;
        double Y(double y) => top + h - y / yMax * h;
        sb.Append($"<rect x=\"{left}\" y=\"{top}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#999\"/>");
        for (int i = 0; i <= 5; i++)
        {
            double yv = yMax * i / 5, xv = xMin + (xMax - xMin) * i / 5;
            sb.Append($"<line x1=\"{left}\" x2=\"{left + w}\" y1=\"{F(Y(yv))}\" y2=\"{F(Y(yv))}\" stroke=\"#eee\"/>");
            sb.Append($"<text x=\"{left - 6}\" y=\"{F(Y(yv) + 4)}\" text-anchor=\"end\" font-size=\"11\">{F(yv)}</text>");
            sb.Append($"<text x=\"{F(X(xv))}\" y=\"{top + h + 16}\" text-anchor=\"middle\" font-size=\"11\">{F(xv)}</text>");
        }
        sb.Append($"<text x=\"{left + w / 2}\" y=\"{height - 8}\" text-anchor=\"middle\" font-size=\"12\">{WebUtility.HtmlEncode(xLabel)}</text>");
        sb.Append($"<text transform=\"translate(14,{top + h / 2}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">{WebUtility.HtmlEncode(yLabel)}</text>");
        for (int s = 0; s < _series.Count; s++)
        {
            string colour = s_palette[s % s_palette.Length];
            var path = new StringBuilder();
            foreach (var (x, y) in _series[s].Points)
            {
                path.Append(path.Length == 0 ? 'M' : 'L').Append(F(X(x))).Append(',').Append(F(Y(y))).Append(' ');
            }
            sb.Append($"<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>");
            int ly = top + 14 + s * 16;
            sb.Append($"<line x1=\"{left + w + 10}\" x2=\"{left + w + 28}\" y1=\"{ly - 4}\" y2=\"{ly - 4}\" stroke=\"{colour}\" stroke-width=\"3\"/>");
            sb.Append($"<text x=\"{left + w + 32}\" y=\"{ly}\" font-size=\"11\">{WebUtility.HtmlEncode(_series[s].Name)}</text>");
        }
        foreach (var (x, label) in _marks.Where(m => m.X >= xMin && m.X <= xMax))
        {
            sb.Append($"<line x1=\"{F(X(x))}\" x2=\"{F(X(x))}\" y1=\"{top}\" y2=\"{top + h}\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>");
            sb.Append($"<text x=\"{F(X(x) + 3)}\" y=\"{top + 12}\" font-size=\"11\" fill=\"#c00\">{WebUtility.HtmlEncode(label)}</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>Rounds an axis maximum up to 1, 2 or 5 × 10^k.</summary>
    private static double Nice(double v)
    {
        double p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (double m in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (m * p >= v)
            {
                return m * p;
            }
        }
        return 10 * p;
    }
}
