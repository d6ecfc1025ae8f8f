using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Cache;
using RegistryKit.Registry;
using RegistryKit.Transport;

namespace RegistryKit.Tests.Reliability;

public partial class HostileInputTests
{
    private const int HostileCacheFiles = 2_000;

    private static readonly string[] s_hostileNames =
    [
        "../..", "../../../etc/passwd", "..\\..\\windows", "/tmp/escape", "C:\\Windows\\evil", "\\\\server\\share\\x", "CON", "NUL",
        "COM1", "LPT1.txt", "con", "a/b", "a\\b", "a:b", "a\0b", "\0", ".", "..", "...", " ", new string('n', 5_000),
        "greeter", "Greeter", "GREETER", "gгeeter" /* Cyrillic г */, "ｇｒｅｅｔｅｒ", "greeter\u200B", "é", "e\u0301",
    ];

    [Test]
    public void CacheFile_2000HostileContents_NeverThrowOut_AndMalformedEntriesAreSkippedAndCounted()
    {
        HostileInput input = HostileInput.FromEnvironment();
        string path = Path.Combine(_root, "hostile.cache.json");
        for (int i = 0; i < HostileCacheFiles; i++)
        {
            (byte[] content, long? malformed, int valid) = NextCacheFile(input);
            File.WriteAllBytes(path, content);

            CacheReadResult? read = null;
            Assert.DoesNotThrow(() => read = RegistryCacheFile.Read(path), input.Replay(i));
            if (malformed is { } expected)
            {
                Assert.That(read!.Problem, Is.Null, input.Replay(i));
                Assert.That(read.Skipped, Is.EqualTo(expected), input.Replay(i));
                Assert.That(read.Entries.Values.Sum(list => list.Count), Is.EqualTo(valid), input.Replay(i));
            }

            Assert.DoesNotThrowAsync(async () => await new RegistryCacheStore(path, _time, NullLogger.Instance).DisposeAsync(), input.Replay(i));
        }
    }

    [Test]
    public async Task CacheNames_HostileApplicationNames_WriteNothingOutsideTheCacheFolder_AndCaseVariantsKeepTheirOwnFiles()
    {
        string cache = Path.Combine(_root, "cache");
        int i = 0;
        foreach (string name in s_hostileNames)
        {
            await using RegistryFactory factory = CreateFactory();
            IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("scripted://registry").WithParameter("application", name));
            ServiceUrl subscription = ServiceUrl.Parse($"consumer://10.0.0.9/svc{i++}");
            await registry.SubscribeAsync(subscription, new Support.RecordingListener());
            _transport.Watchers[^1].OnSnapshot(new TransportSnapshot(1, [$"dubbo://10.0.0.1:20880/{subscription.Path}"]));
        }

        // Everything under the temporary root, after every registry saved on disposal.
        string[] files = Directory.GetFileSystemEntries(_root, "*", SearchOption.AllDirectories);
        Assert.That(files.Where(f => Path.GetDirectoryName(f) != cache && f != cache), Is.Empty, "nothing outside the cache folder");
        string[] caches = [.. files.Where(f => f.EndsWith(".cache.json", StringComparison.Ordinal))];
        Assert.That(caches, Has.Length.EqualTo(s_hostileNames.Length), "one file per application, case variants included");
        Assert.That(caches.Select(f => f.ToUpperInvariant()).Distinct().Count(), Is.EqualTo(caches.Length), "no two names differ only by case, so a case-insensitive disk keeps them apart");

        // Each file holds its own application's subscription and nothing else: no name clobbered another's cache.
        var keys = caches.Select(f => RegistryCacheFile.Read(f).Entries.Keys.Single()).ToList();
        Assert.That(keys, Is.Unique);
    }

    /// <summary>A cache file: bytes, a torn or wrongly encoded document, or valid JSON with malformed entries (counted).</summary>
    private static (byte[] Content, long? Malformed, int Valid) NextCacheFile(HostileInput input)
    {
        Random random = input.Random;
        string valid = "{\"version\":1,\"entries\":{\"consumer://h/svc\":[\"dubbo://10.0.0.1:20880/svc\",\"dubbo://10.0.0.2:20880/svc\"]}}";
        switch (random.Next(7))
        {
            case 0:
                byte[] bytes = new byte[random.Next(0, 4096)];
                random.NextBytes(bytes);
                return (bytes, null, 0);
            case 1:
                return (Encoding.UTF8.GetBytes(valid[..random.Next(valid.Length)]), null, 0);
            case 2:
                return (Encoding.Unicode.GetBytes(valid), null, 0);
            case 3:
                return (Encoding.UTF8.GetBytes(new string('[', random.Next(60, 2000))), null, 0);
            case 4:
                return (Encoding.UTF8.GetBytes(Mutate(valid, random)), null, 0);
            default:
                // Valid JSON whose entries are hostile: every one that does not parse is skipped and counted.
                var entries = new List<string>();
                int good = 0;
                long bad = 0;
                for (int i = 0; i < random.Next(0, 40); i++)
                {
                    string value = random.Next(3) == 0 ? $"dubbo://10.0.0.{i}:20880/svc" : input.NextUrlLike();

                    // What the file will hold: JSON writes a lone surrogate as U+FFFD.
                    value = System.Text.Json.JsonSerializer.Deserialize<string>(System.Text.Json.JsonSerializer.Serialize(value))!;
                    entries.Add(value);
                    bool ok = ServiceUrl.TryParse(value, out _);
                    good += ok ? 1 : 0;
                    bad += ok ? 0 : 1;
                }

                string document = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["version"] = 7,
                    ["entries"] = new Dictionary<string, List<string>?> { ["consumer://h/svc"] = entries, ["consumer://h/null"] = null },
                });
                return (Encoding.UTF8.GetBytes(document), bad + 1, good);
        }
    }

    private static string Mutate(string text, Random random)
    {
        var builder = new StringBuilder(text);
        for (int i = 0; i < random.Next(1, 6); i++)
        {
            builder[random.Next(builder.Length)] = "{}[]\",:\\0n"[random.Next(10)];
        }

        return builder.ToString();
    }
}
