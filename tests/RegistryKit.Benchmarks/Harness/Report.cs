using System.Globalization;
using System.Text;

namespace RegistryKit.Benchmarks.Harness;

/// <summary>Prints the one line per workload (or baseline) the harness promises: <c>RESULT name key=value ...</c>.</summary>
internal static class Report
{
    public static void Result(string name, params (string Key, double Value)[] values)
    {
        var line = new StringBuilder("RESULT ").Append(name);
        foreach ((string key, double value) in values)
        {
            line.Append(' ').Append(key).Append('=').Append(value.ToString("0.###", CultureInfo.InvariantCulture));
        }

        Console.WriteLine(line.ToString());
    }
}
