using System.Text.RegularExpressions;

namespace RegistryKit.Tests;

/// <summary>
/// Rules of the house that a compiler does not check: time comes from <see cref="TimeProvider"/> only, so nothing
/// in <c>src/</c> reads the wall clock, sleeps or builds its own timer.
/// </summary>
public partial class HouseRulesTests
{
    [Test]
    public void Sources_UseNoWallClockSleepOrRawTimer()
    {
        string src = Path.Combine(FindRepositoryRoot(), "src");
        var violations = new List<string>();
        foreach (string file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                string? banned = FindBanned(lines[i]);
                if (banned is not null)
                {
                    violations.Add($"{Path.GetRelativePath(src, file)}:{i + 1}: {banned}");
                }
            }
        }

        Assert.That(violations, Is.Empty, "Use the injected TimeProvider instead of these.");
    }

    [TestCase("var now = DateTime.UtcNow;", "DateTime.UtcNow")]
    [TestCase("var now = DateTime.Now;", "DateTime.Now")]
    [TestCase("int t = Environment.TickCount64;", "Environment.TickCount")]
    [TestCase("Thread.Sleep(10);", "Thread.Sleep")]
    [TestCase("_t = new Timer(Callback, null, 0, 10);", "new Timer(")]
    [TestCase("_t = new System.Threading.Timer(Callback);", "new System.Threading.Timer(")]
    public void FindBanned_CatchesEachBannedUse(string line, string expected)
    {
        Assert.That(FindBanned(line), Is.EqualTo(expected));
    }

    [TestCase("// DateTime.UtcNow would be wrong here")]
    [TestCase("/// <summary>Not Thread.Sleep.</summary>")]
    [TestCase("var now = timeProvider.GetUtcNow();")]
    [TestCase("ITimer timer = timeProvider.CreateTimer(callback, null, due, period);")]
    public void FindBanned_AllowsCommentsAndTimeProvider(string line)
    {
        Assert.That(FindBanned(line), Is.Null);
    }

    internal static string? FindBanned(string line)
    {
        int comment = line.IndexOf("//", StringComparison.Ordinal);
        string code = comment >= 0 ? line[..comment] : line;
        Match match = BannedPattern().Match(code);
        return match.Success ? match.Value : null;
    }

    internal static string FindRepositoryRoot()
    {
        for (DirectoryInfo? directory = new(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RegistryKit.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("RegistryKit.sln was not found above the test directory.");
    }

    [GeneratedRegex(@"DateTime\.(UtcNow|Now)\b|Environment\.TickCount|Thread\.Sleep|new\s+(System\.Threading\.)?Timer\s*\(")]
    private static partial Regex BannedPattern();
}
