using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

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

    [Test]
    public void LogEvents_AreSourceGenerated_WithANameAndAnIdUniqueAcrossThePackages()
    {
        Assembly[] packages =
        [
            typeof(ServiceUrl).Assembly,
            typeof(RegistryKit.InMemory.InMemoryRegistryServer).Assembly,
            typeof(RegistryKit.Hosting.ServiceRegistrations).Assembly,
            typeof(RegistryKit.Testing.ManualTimeProvider).Assembly,
            typeof(RegistryKit.Etcd.EtcdRegistryTransportFactory).Assembly,
        ];
        var events = packages
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(e => e.Attribute is not null)
            .ToList();

        Assert.That(events, Has.Count.GreaterThan(50), "the packages log through [LoggerMessage]");
        Assert.That(events.Where(e => string.IsNullOrEmpty(e.Attribute!.EventName)).Select(e => e.Method), Is.Empty, "every event has a name");
        Assert.That(
            events.GroupBy(e => e.Attribute!.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}"),
            Is.Empty,
            "event ids are stable and unique, so a log query can rely on them");
    }

    [Test]
    public void Sources_LogOnlyThroughSourceGeneratedMethods()
    {
        string src = Path.Combine(FindRepositoryRoot(), "src");
        string[] violations =
        [
            .. Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
                .Where(l => ExtensionLogCall().IsMatch(l.Text))
                .Select(l => $"{Path.GetRelativePath(src, l.File)}:{l.Line}"),
        ];

        Assert.That(violations, Is.Empty, "log through a [LoggerMessage] method, not the LoggerExtensions methods");
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

    [GeneratedRegex(@"\.Log(Trace|Debug|Information|Warning|Error|Critical)\(|\.Log\(LogLevel\.")]
    private static partial Regex ExtensionLogCall();
}
