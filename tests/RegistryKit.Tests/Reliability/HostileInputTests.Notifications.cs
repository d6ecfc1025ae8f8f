using Microsoft.Extensions.Logging;
using RegistryKit.Cache;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Transport;

namespace RegistryKit.Tests.Reliability;

public partial class HostileInputTests
{
    private const int HostileSnapshots = 300;

    private static readonly ServiceUrl s_subscription = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter");

    private ManualTimeProvider _time = null!;
    private ScriptedTransportFactory _transport = null!;
    private string _root = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _transport = new ScriptedTransportFactory();
        _root = Path.Combine(Path.GetTempPath(), "registrykit-hostile", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Test]
    public async Task Notifications_HostileSnapshots_ListenerGetsOnlyWellFormedDistinctUrls_AndTheRestIsCounted()
    {
        HostileInput input = HostileInput.FromEnvironment();
        var logs = new CollectingLoggerFactory();
        await using RegistryFactory factory = CreateFactory(logs);
        (IRegistry registry, RecordingListener listener, ITransportWatcher watcher) = await SubscribeAsync(factory, "hostile");
        ServiceUrl[] pool = [.. Enumerable.Range(1, 40).Select(Provider)];
        long malformed = 0;
        IReadOnlyList<ServiceUrl>? view = null;

        for (int i = 0; i < HostileSnapshots; i++)
        {
            List<string> entries = NextHostileSnapshot(input, pool);
            long bad = entries.Count(entry => !ServiceUrl.TryParse(entry, out _));
            malformed += bad;

            Assert.DoesNotThrow(() => watcher.OnSnapshot(new TransportSnapshot(i + 1, entries)), input.Replay(i));

            // What the engine promises (docs/registry.md, Notifications): the distinct well-formed URLs that match,
            // an empty:// marker when none do, and no change at all when every entry is malformed.
            if (bad < entries.Count || entries.Count == 0)
            {
                ServiceUrl[] expected = [.. entries.Select(e => ServiceUrl.TryParse(e, out ServiceUrl? u) ? u : null)
                    .OfType<ServiceUrl>().Where(u => !u.IsEmptyMarker && s_subscription.Matches(u)).Distinct()];
                view = expected.Length == 0 ? [s_subscription.ToEmptyMarker("providers")] : expected;
            }

            if (view is not null)
            {
                IReadOnlyList<ServiceUrl> wanted = view;
                await VirtualTimeDriver.WaitUntilAsync(() => listener.View.TryGetValue("providers", out IReadOnlyList<ServiceUrl>? got) && SameSet(got, wanted));
                Assert.That(listener.View["providers"], Is.Unique, input.Replay(i));
            }

            Assert.That(registry.GetStatus().MalformedEntries, Is.EqualTo(malformed), input.Replay(i));
        }

        Assert.That(malformed, Is.GreaterThan(HostileSnapshots), $"the generator made malformed entries; seed {input.Seed}");

        // A hostile registry cannot flood the log: at most one line about malformed entries per snapshot.
        Assert.That(logs.Entries.Count(e => e.EventId.Id is 2009 or 2017), Is.LessThanOrEqualTo(HostileSnapshots), $"seed {input.Seed}");
    }

    [Test]
    public async Task Notifications_SnapshotOf100000EntriesWithDuplicates_IsDeliveredOnceDistinct_InLinearTimeAndMemory_AndCachedWithinLimits()
    {
        await using RegistryFactory factory = CreateFactory();
        (IRegistry registry, RecordingListener listener, ITransportWatcher watcher) = await SubscribeAsync(factory, "huge");
        List<string> entries = [.. Enumerable.Range(1, 50_000).Select(i => Provider(i).ToFullString())];
        entries.AddRange(entries);
        long inputBytes = entries.Sum(e => (long)e.Length * sizeof(char));

        long before = GC.GetAllocatedBytesForCurrentThread();
        watcher.OnSnapshot(new TransportSnapshot(1, entries));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Before the fix, de-duplicating with List.Contains made this quadratic: minutes, not milliseconds.
        await VirtualTimeDriver.WaitUntilAsync(() => listener.View.TryGetValue("providers", out IReadOnlyList<ServiceUrl>? got) && got.Count == 50_000);
        Assert.That(listener.View["providers"], Is.Unique);
        Assert.That(allocated, Is.LessThan(inputBytes * 20), $"allocated {allocated:N0} bytes for {inputBytes:N0} bytes of entries");

        // The same list again, reordered: no change, so nothing is delivered (comparison is linear too).
        int lists = listener.Lists.Count;
        entries.Reverse();
        watcher.OnSnapshot(new TransportSnapshot(2, entries));
        Assert.That(listener.Lists, Has.Count.EqualTo(lists));
        Assert.That(registry.GetStatus().MalformedEntries, Is.Zero);

        // The disk cache keeps what a later start can read back: at most MaxUrlsPerEntry, in a file under the limit.
        await factory.DisposeAsync();
        string file = Directory.GetFiles(Path.Combine(_root, "cache"), "*.cache.json").Single();
        CacheReadResult read = RegistryCacheFile.Read(file);
        Assert.That(read.Problem, Is.Null);
        Assert.That(new FileInfo(file).Length, Is.LessThanOrEqualTo(RegistryCacheFile.MaxFileBytes));
        Assert.That(read.Entries.Values.Single(), Has.Count.EqualTo(RegistryCacheFile.MaxUrlsPerEntry));
        Assert.That(read.Skipped, Is.Zero);
    }

    [Test]
    public async Task Notifications_HugeEntries_AreSkippedWithoutBeingCopied_AndTheListenerGetsTheRest()
    {
        await using RegistryFactory factory = CreateFactory();
        (IRegistry registry, RecordingListener listener, ITransportWatcher watcher) = await SubscribeAsync(factory, "big-values");
        string huge = Provider(1).ToFullString() + "&pad=" + new string('x', 4 * 1024 * 1024);
        List<string> entries = [.. Enumerable.Repeat(huge, 8), new string('\0', 2 * 1024 * 1024), string.Empty, Provider(2).ToFullString()];

        long before = GC.GetAllocatedBytesForCurrentThread();
        watcher.OnSnapshot(new TransportSnapshot(1, entries));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(2));
        Assert.That(registry.GetStatus().MalformedEntries, Is.EqualTo(10));
        Assert.That(allocated, Is.LessThan(1024 * 1024), "36 MB of entries over the length limit are rejected before any copy");
    }

    private static bool SameSet(IReadOnlyList<ServiceUrl> a, IReadOnlyList<ServiceUrl> b) =>
        a.Count == b.Count && a.ToHashSet().SetEquals(b);

    private static ServiceUrl Provider(int i) =>
        ServiceUrl.Parse($"dubbo://10.0.{i / 250}.{i % 250}:20880/com.example.Greeter?application=p{i}");

    /// <summary>Good providers (with duplicates), providers of other services, and garbage of every kind.</summary>
    private static List<string> NextHostileSnapshot(HostileInput input, ServiceUrl[] pool)
    {
        Random random = input.Random;
        var entries = new List<string>();
        int count = random.Next(0, 4) == 0 ? random.Next(0, 3) : random.Next(1, 60);
        for (int i = 0; i < count; i++)
        {
            entries.Add(random.Next(9) switch
            {
                0 or 1 or 2 => pool[random.Next(pool.Length)].ToFullString(),
                3 => pool[random.Next(pool.Length)].ToFullString().ToUpperInvariant(),
                4 => string.Empty,
                5 => input.NextChars(random.Next(1, 30)),
                6 => "dubbo://10.0.0.1:20880/com.example.Other",
                7 => pool[random.Next(pool.Length)].ToFullString() + (char)random.Next(0, 0x20),
                _ => input.NextUrlLike(),
            });
        }

        return entries;
    }

    /// <summary>A registry of the scripted transport for <paramref name="application"/>, subscribed, and the transport's watch.</summary>
    private async Task<(IRegistry Registry, RecordingListener Listener, ITransportWatcher Watcher)> SubscribeAsync(RegistryFactory factory, string application)
    {
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse($"scripted://registry?application={application}"));
        var listener = new RecordingListener();
        await registry.SubscribeAsync(s_subscription, listener);
        return (registry, listener, _transport.Watchers.Single());
    }

    private RegistryFactory CreateFactory(ILoggerFactory? logs = null) =>
        new(
            [new("scripted", _transport)],
            new RegistryOptions { Check = false, CacheDirectory = Path.Combine(_root, "cache") },
            _time,
            loggerFactory: logs);
}
