using RegistryKit.Registry;

namespace RegistryKit.Etcd.Tests;

/// <summary>
/// The whole client on etcd that loses its data or a member: what users of a real cluster meet. These wait on real
/// time (etcd's leases and elections run on its clock), each bounded by a deadline.
/// </summary>
[CancelAfter(90_000)]
[NonParallelizable]
public class EtcdRecoveryTests
{
    private static readonly ServiceUrl s_subscription = EtcdRegistryTransportTests.Subscription("com.example.Greeter");

    [Test]
    public async Task EtcdWiped_TheClientRegistersEverythingAgain()
    {
        await using EtcdServer etcd = await EtcdServer.StartOwnAsync();
        await using RegistryFactory factory = Factory();
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse(etcd.Address + "/wiped"), Token);
        ServiceUrl[] providers = [.. Enumerable.Range(0, 3).Select(i => EtcdRegistryTransportTests.Provider("com.example.Greeter", 20880 + i))];
        foreach (ServiceUrl provider in providers)
        {
            await registry.RegisterAsync(provider, Token);
        }

        await etcd.RestartEmptyAsync();

        // The next keep-alive finds the lease gone; the registry opens a new session and registers all three again.
        await EventuallyAsync(async () => (await LookupDirectAsync(etcd.Address + "/wiped")).Count == 3, TimeSpan.FromSeconds(30));
        Assert.That(await LookupDirectAsync(etcd.Address + "/wiped"), Is.EquivalentTo(providers));
        Assert.That(registry.GetStatus().SessionRecoveries, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task ThreeMemberCluster_MemberInUseKilled_RegistrationsStay_AndTheWatchMissesNoEvent()
    {
        await using EtcdCluster cluster = await EtcdCluster.StartAsync();
        // A 4 s session: killing the member in use may cost the cluster an election (about a second here, more when the
        // machine is busy) before keep-alives find a live member; a 2 s session gave that only two heartbeat intervals.
        await using var scenario = await ClusterScenario.StartAsync(cluster.Address("cluster"), TimeSpan.FromSeconds(4));
        (IRegistry provider, IRegistry consumer, LatestList listener, ServiceUrl first) = (scenario.Provider, scenario.Consumer, scenario.Listener, scenario.First);

        // Member 0 is every client's first endpoint: the one in use.
        cluster.Kill(0);
        ServiceUrl second = EtcdRegistryTransportTests.Provider("com.example.Greeter", 20881);
        await provider.RegisterAsync(second, Token);

        // The watch moves to a live member and resumes where it was: it sees the registration made meanwhile.
        await EventuallyAsync(() => Task.FromResult(listener.Latest.SetEquals([first, second])), TimeSpan.FromSeconds(30));

        // Two TTLs later both are still registered: keep-alives go to a live member and the lease survives.
        await Task.Delay(TimeSpan.FromSeconds(8), Token);
        Assert.That(await consumer.LookupAsync(s_subscription, Token), Is.EquivalentTo(new[] { first, second }));
        Assert.That(provider.GetStatus().SessionRecoveries, Is.Zero, "the lease itself survived the member's loss");
    }

    [Test]
    public async Task ThreeMemberCluster_MemberInUseFrozen_TheWatchMovesOnAndMissesNoEvent()
    {
        await using EtcdCluster cluster = await EtcdCluster.StartAsync();
        await using var scenario = await ClusterScenario.StartAsync(cluster.Address("frozen"));
        (IRegistry provider, LatestList listener, ServiceUrl first) = (scenario.Provider, scenario.Listener, scenario.First);

        // A hung member keeps its connections open: no reset tells the watch. Its probe does (every 5 s, 5 s timeout).
        cluster.Signal(0, "STOP");
        try
        {
            ServiceUrl second = EtcdRegistryTransportTests.Provider("com.example.Greeter", 20881);
            await provider.RegisterAsync(second, Token);
            await EventuallyAsync(() => Task.FromResult(listener.Latest.SetEquals([first, second])), TimeSpan.FromSeconds(30));
        }
        finally
        {
            cluster.Signal(0, "CONT");
        }
    }

    private static CancellationToken Token => TestContext.CurrentContext.CancellationToken;

    private static RegistryFactory Factory(TimeSpan? sessionTtl = null) =>
        new([new("etcd", new EtcdRegistryTransportFactory())], new RegistryOptions { SessionTtl = sessionTtl ?? TimeSpan.FromSeconds(2), CacheEnabled = false, Check = false });

    /// <summary>Reads the registry with a fresh client, so the answer is etcd's and not a cache's.</summary>
    private static async Task<IReadOnlyList<ServiceUrl>> LookupDirectAsync(string address)
    {
        await using var transport = new EtcdRegistryTransportFactory().CreateTransport(ServiceUrl.Parse(address));
        Transport.TransportSnapshot snapshot = await transport.LookupAsync(s_subscription, Token);
        return [.. snapshot.Entries.Select(ServiceUrl.Parse)];
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        DateTimeOffset deadline = DateTimeOffset.UtcNow + within;
        while (!await condition())
        {
            Assert.That(DateTimeOffset.UtcNow, Is.LessThan(deadline), $"not within {within.TotalSeconds} s");
            await Task.Delay(100, Token);
        }
    }

    /// <summary>A provider and a consumer on a cluster, the consumer subscribed and told of one registration.</summary>
    private sealed class ClusterScenario(TimeSpan sessionTtl) : IAsyncDisposable
    {
        private readonly RegistryFactory _providers = Factory(sessionTtl);
        private readonly RegistryFactory _consumers = Factory(sessionTtl);

        public IRegistry Provider { get; private set; } = null!;

        public IRegistry Consumer { get; private set; } = null!;

        public LatestList Listener { get; } = new();

        public ServiceUrl First { get; } = EtcdRegistryTransportTests.Provider("com.example.Greeter", 20880);

        public static async Task<ClusterScenario> StartAsync(string address, TimeSpan? sessionTtl = null)
        {
            var scenario = new ClusterScenario(sessionTtl ?? TimeSpan.FromSeconds(2));
            try
            {
                scenario.Provider = await scenario._providers.GetRegistryAsync(ServiceUrl.Parse(address), Token);
                scenario.Consumer = await scenario._consumers.GetRegistryAsync(ServiceUrl.Parse(address), Token);
                await scenario.Consumer.SubscribeAsync(s_subscription, scenario.Listener, Token);
                await scenario.Provider.RegisterAsync(scenario.First, Token);
                await EventuallyAsync(() => Task.FromResult(scenario.Listener.Latest.SetEquals([scenario.First])), TimeSpan.FromSeconds(10));
                return scenario;
            }
            catch
            {
                await scenario.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _providers.DisposeAsync();
            await _consumers.DisposeAsync();
        }
    }

    private sealed class LatestList : INotifyListener
    {
        private volatile HashSet<ServiceUrl> _latest = [];

        public HashSet<ServiceUrl> Latest => _latest;

        public ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
        {
            _latest = [.. urls.Where(u => !u.IsEmptyMarker)];
            return ValueTask.CompletedTask;
        }
    }
}
