using System.Text;
using RegistryKit.Cache;
using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Cache;

[CancelAfter(20_000)]
public class RegistryCacheStoreTests
{
    private const string Canary = "Canary-9c1e";
    private static readonly ServiceUrl s_registry = ServiceUrl.Parse("memory://10.0.0.1:2379/root");
    private static readonly ServiceUrl s_subscription = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter");

    private string _directory = null!;
    private string _path = null!;
    private ManualTimeProvider _time = null!;
    private CollectingLogger<RegistryCacheStore> _logger = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Path.Combine(Path.GetTempPath(), "registrykit-tests", Guid.NewGuid().ToString("N"));
        _path = RegistryCacheFile.PathFor(_directory, "greeter-app", s_registry);
        _time = new ManualTimeProvider();
        _logger = new CollectingLogger<RegistryCacheStore>();
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Test]
    public async Task Put_ThenReload_ServesTheSameUrlsWithoutCredentials()
    {
        await using (var store = new RegistryCacheStore(_path, _time, _logger))
        {
            store.Put(s_subscription, [Provider(1).WithCredentials("admin", Canary).WithParameter("token", Canary), Provider(2)]);
        }

        Assert.That(File.ReadAllText(_path), Does.Not.Contain(Canary));
        await using var reloaded = new RegistryCacheStore(_path, _time, _logger);
        Assert.That(reloaded.Get(s_subscription), Is.EquivalentTo(new[] { Provider(1), Provider(2) }));
        Assert.That(reloaded.Get(ServiceUrl.Parse("consumer://10.0.0.9/com.example.Other")), Is.Null);
    }

    [Test]
    public async Task Put_ManyChangesQuickly_EndsWithTheNewestOnDisk()
    {
        await using (var store = new RegistryCacheStore(_path, _time, _logger))
        {
            for (int port = 1; port <= 200; port++)
            {
                store.Put(s_subscription, [Provider(port)]);
            }
        }

        await using var reloaded = new RegistryCacheStore(_path, _time, _logger);
        Assert.That(reloaded.Get(s_subscription), Is.EqualTo(new[] { Provider(200) }));
    }

    [Test]
    public async Task Files_AreOwnerOnlyOnUnix()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("Unix permissions.");
            return;
        }

        await using (var store = new RegistryCacheStore(_path, _time, _logger))
        {
            store.Put(s_subscription, [Provider(1)]);
        }

        Assert.That(File.GetUnixFileMode(_path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(File.GetUnixFileMode(_directory), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
    }

    private static IEnumerable<TestCaseData> HostileFiles()
    {
        yield return new TestCaseData(Encoding.UTF8.GetBytes("this is not json")).SetName("Load_Garbage_IsIgnored");
        yield return new TestCaseData(Encoding.UTF8.GetBytes("{\"version\":3,\"entries\":{\"k\":[\"dubbo://h:1/x\"")).SetName("Load_Truncated_IsIgnored");
        yield return new TestCaseData(new byte[900_000]).SetName("Load_Nuls_Dubbo432_IsIgnored");
        yield return new TestCaseData(Encoding.UTF8.GetBytes(new string('[', 10_000))).SetName("Load_DeepNesting_IsIgnored");
        yield return new TestCaseData(Encoding.UTF8.GetBytes("{\"entries\":null}")).SetName("Load_NoEntries_IsIgnored");
        yield return new TestCaseData(Encoding.UTF8.GetBytes("[1,2,3]")).SetName("Load_WrongShape_IsIgnored");
    }

    [TestCaseSource(nameof(HostileFiles))]
    public async Task Load_HostileFile_IsLoggedAndIgnoredWithoutThrowing(byte[] content)
    {
        Directory.CreateDirectory(_directory);
        await File.WriteAllBytesAsync(_path, content);

        await using var store = new RegistryCacheStore(_path, _time, _logger);

        Assert.That(store.Get(s_subscription), Is.Null);
        Assert.That(_logger.Entries.Select(e => e.EventId.Id), Has.Some.AnyOf(2200, 2201));
    }

    [Test]
    public async Task Load_HugeFile_IsNotRead_Dubbo432()
    {
        Directory.CreateDirectory(_directory);
        await using (var file = new FileStream(_path, FileMode.Create))
        {
            file.SetLength(RegistryCacheFile.MaxFileBytes + 1);
        }

        await using var store = new RegistryCacheStore(_path, _time, _logger);

        Assert.That(_logger.Entries.Single().Message, Does.Contain("over the limit"));
    }

    [Test]
    public async Task Load_MalformedUrlsAmongValidOnes_AreSkippedAndCounted()
    {
        Directory.CreateDirectory(_directory);
        string key = RegistryCacheStore.KeyOf(s_subscription);
        string json = $"{{\"version\":1,\"entries\":{{\"{key}\":[\"{Provider(1).ToFullString()}\",\"no scheme\",null,\"dubbo://h:99999/x\"],\"\":[\"x\"]}}}}";
        await File.WriteAllTextAsync(_path, json);

        await using var store = new RegistryCacheStore(_path, _time, _logger);

        Assert.That(store.Get(s_subscription), Is.EqualTo(new[] { Provider(1) }));
        Assert.That(store.SkippedOnLoad, Is.EqualTo(4));
    }

    [Test]
    public void WriteAtomically_WriterKilledAtRandomPoints_NeverLeavesATornFile()
    {
        var random = new Random(1234);
        Directory.CreateDirectory(_directory);
        Dictionary<string, List<string>> lastGood = Entries(0);
        RegistryCacheFile.WriteAtomically(_path, 0, lastGood);

        for (int round = 1; round <= 200; round++)
        {
            Dictionary<string, List<string>> next = Entries(round);
            bool crash = random.Next(2) == 0;
            int cut = random.Next(0, 4096);
            try
            {
                RegistryCacheFile.WriteAtomically(_path, round, next, crash ? stream => KillMidWrite(stream, cut) : null);
                lastGood = next;
            }
            catch (IOException) when (crash)
            {
            }

            CacheReadResult onDisk = RegistryCacheFile.Read(_path);
            Assert.That(onDisk.Problem, Is.Null, $"round {round}: the cache file is torn");
            Assert.That(onDisk.Entries.Keys, Is.EquivalentTo(lastGood.Keys), $"round {round}");
        }

        Assert.That(Directory.GetFiles(_directory, "*.tmp"), Is.Empty, "no temporary files are left behind");
    }

    [Test]
    public async Task TwoWritersOnOneFile_NeitherCorruptsNorBlocksAndBothEntriesSurvive_Dubbo81_Dubbo806_Dubbo2673()
    {
        ServiceUrl other = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Other");
        var first = new RegistryCacheStore(_path, _time, _logger);
        var second = new RegistryCacheStore(_path, _time, _logger);

        await Task.WhenAll(
            Task.Run(() => Enumerable.Range(1, 100).ToList().ForEach(port => first.Put(s_subscription, [Provider(port)]))),
            Task.Run(() => Enumerable.Range(1, 100).ToList().ForEach(port => second.Put(other, [Provider(port)]))));
        await first.DisposeAsync();
        await second.DisposeAsync();

        CacheReadResult onDisk = RegistryCacheFile.Read(_path);
        Assert.That(onDisk.Problem, Is.Null);
        Assert.That(onDisk.Entries.Keys, Is.EquivalentTo(new[] { RegistryCacheStore.KeyOf(s_subscription), RegistryCacheStore.KeyOf(other) }));
    }

    [Test]
    public async Task Save_AnotherProcessWroteANewerEntry_ItIsNotOverwrittenWithWhatWasLoaded()
    {
        ServiceUrl other = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Other");
        await using (var seed = new RegistryCacheStore(_path, _time, _logger))
        {
            seed.Put(s_subscription, [Provider(1)]);
        }

        var a = new RegistryCacheStore(_path, _time, _logger);
        await using (var b = new RegistryCacheStore(_path, _time, _logger))
        {
            b.Put(s_subscription, [Provider(2)]);
        }

        a.Put(other, [Provider(3)]);
        await a.DisposeAsync();

        await using var reloaded = new RegistryCacheStore(_path, _time, _logger);
        Assert.That(reloaded.Get(s_subscription), Is.EqualTo(new[] { Provider(2) }), "the other process's newer entry survives");
        Assert.That(reloaded.Get(other), Is.EqualTo(new[] { Provider(3) }));
    }

    [Test]
    public void PathFor_VolatileParametersDiffer_SameFile()
    {
        string first = RegistryCacheFile.PathFor(_directory, "app", ServiceUrl.Parse("memory://h:1/root?timestamp=1&pid=7"));
        string second = RegistryCacheFile.PathFor(_directory, "app", ServiceUrl.Parse("memory://h:1/root?timestamp=2&pid=8"));

        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public async Task Save_LockHeldByAnotherProcess_BoundedAttemptsLoggedNeverThrows_Dubbo3746()
    {
        Directory.CreateDirectory(_directory);
        await using (var held = new FileStream(_path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var store = new RegistryCacheStore(_path, _time, _logger);
            store.Put(s_subscription, [Provider(1)]);

            Assert.That(async () => await store.DisposeAsync(), Throws.Nothing);
            Assert.That(store.SaveFailures, Is.GreaterThanOrEqualTo(1));
            Assert.That(_logger.Entries.Select(e => e.EventId.Id), Has.Some.EqualTo(2203));
        }

        Assert.That(File.Exists(_path), Is.False);
    }

    [Test]
    public void DefaultDirectory_IsUnderLocalApplicationDataNotTheWorkingDirectory_Nacos205()
    {
        string directory = RegistryCacheFile.DefaultDirectory;

        Assert.That(directory, Does.StartWith(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify)));
        Assert.That(Path.IsPathFullyQualified(directory), Is.True, "a relative path would land in whatever the working directory is");
    }

    [TestCase("../../etc/passwd")]
    [TestCase("/etc/passwd")]
    [TestCase("..\\..\\windows\\system32")]
    [TestCase("CON")]
    [TestCase("nul.txt")]
    public void PathFor_HostileApplicationNames_StayInsideTheFolder(string application)
    {
        string path = RegistryCacheFile.PathFor(_directory, application, s_registry);

        Assert.That(Path.GetDirectoryName(path), Is.EqualTo(Path.GetFullPath(_directory)));
        Assert.That(Path.GetFileName(path), Does.Match("^[A-Za-z0-9_-]+\\.cache\\.json$"));
    }

    [Test]
    public void PathFor_LongAndCaseDifferingAddresses_AreBoundedAndDistinct()
    {
        string longPath = RegistryCacheFile.PathFor(_directory, new string('a', 5000), s_registry);
        string lower = RegistryCacheFile.PathFor(_directory, "app", ServiceUrl.Parse("memory://h:1/root"));
        string upper = RegistryCacheFile.PathFor(_directory, "app", ServiceUrl.Parse("memory://h:1/ROOT"));

        Assert.That(Path.GetFileName(longPath).Length, Is.LessThan(120));
        Assert.That(lower, Is.Not.EqualTo(upper).IgnoreCase, "names that differ only by case must not share a file");
    }

    [Test]
    public void PathFor_RegistryWithCredentials_KeepsThemOutOfTheName()
    {
        string path = RegistryCacheFile.PathFor(_directory, "app", ServiceUrl.Parse($"etcd://root:{Canary}@10.0.0.1:2379"));

        Assert.That(path, Does.Not.Contain(Canary));
    }

    [Test]
    public async Task Registry_SubscribeWhileRegistryIsDown_IsServedFromTheCache()
    {
        var time = new ManualTimeProvider();
        using var timer = new HashedWheelTimer(time);
        using var server = new InMemoryRegistryServer(time);
        var options = new RegistryOptions { Check = false, CacheDirectory = _directory };
        ServiceUrl registryUrl = ServiceUrl.Parse("memory://?application=greeter-app");
        await FillTheCacheAsync(server, options, time, timer, registryUrl);

        server.Faults.MakeUnreachable(TimeSpan.FromHours(1));
        await using var restarted = new RegistryFactory([new("memory", new InMemoryRegistryTransportFactory(server))], options, time, timer);
        IRegistry again = await restarted.GetRegistryAsync(registryUrl);
        var listener = new RecordingListener();

        await again.SubscribeAsync(s_subscription, listener);

        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(1));
        Assert.That(await again.LookupAsync(s_subscription), Is.EqualTo(new[] { Provider(1) }));
        server.Faults.Clear();
    }

    [Test]
    public async Task Registry_LookupWithoutSubscriptionWhileRegistryIsDown_FallsBackToTheCache()
    {
        var time = new ManualTimeProvider();
        using var timer = new HashedWheelTimer(time);
        using var server = new InMemoryRegistryServer(time);
        var options = new RegistryOptions { Check = false, CacheDirectory = _directory };
        ServiceUrl registryUrl = ServiceUrl.Parse("memory://?application=greeter-app");
        await FillTheCacheAsync(server, options, time, timer, registryUrl);

        server.Faults.MakeUnreachable(TimeSpan.FromHours(1));
        await using var restarted = new RegistryFactory([new("memory", new InMemoryRegistryTransportFactory(server))], options, time, timer);
        IRegistry again = await restarted.GetRegistryAsync(registryUrl);

        Assert.That(await again.LookupAsync(s_subscription), Is.EqualTo(new[] { Provider(1) }));
        Assert.That(async () => await again.LookupAsync(ServiceUrl.Parse("consumer://10.0.0.9/com.example.Unknown")), Throws.InstanceOf<RegistryException>());
        server.Faults.Clear();
    }

    /// <summary>A first life of the process: it registers a provider and subscribes, so the cache holds the list.</summary>
    private static async Task FillTheCacheAsync(InMemoryRegistryServer server, RegistryOptions options, TimeProvider time, HashedWheelTimer timer, ServiceUrl registryUrl)
    {
        await using var factory = new RegistryFactory([new("memory", new InMemoryRegistryTransportFactory(server))], options, time, timer);
        IRegistry registry = await factory.GetRegistryAsync(registryUrl);
        await registry.RegisterAsync(Provider(1));
        var listener = new RecordingListener();
        await registry.SubscribeAsync(s_subscription, listener);
        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(1));
    }

    private static void KillMidWrite(Stream stream, int cut)
    {
        stream.SetLength(Math.Min(stream.Length, cut));
        throw new IOException("the writer died");
    }

    private static Dictionary<string, List<string>> Entries(int round) =>
        Enumerable.Range(0, 1 + (round % 7)).ToDictionary(i => $"consumer://10.0.0.9/svc{round}-{i}", i => new List<string> { Provider(i + 1).ToFullString() });

    private static ServiceUrl Provider(int port) => ServiceUrl.Parse($"dubbo://10.0.0.1:{port}/com.example.Greeter");
}
