using RegistryKit.Registry;

namespace RegistryKit.Etcd.Tests;

/// <summary>The whole client (RegistryFactory, FailbackRegistry, heartbeats) on a real etcd.</summary>
[CancelAfter(60_000)]
public class EtcdEndToEndTests
{
    [Test]
    public async Task FailbackRegistry_OnEtcd_RegistersAndNotifiesASubscriber()
    {
        EtcdServer etcd = await EtcdServer.RequireSharedAsync();
        CancellationToken token = TestContext.CurrentContext.CancellationToken;
        string root = "e2e" + Guid.NewGuid().ToString("N");
        await using var factory = new RegistryFactory(
            [new("etcd", new EtcdRegistryTransportFactory())],
            new RegistryOptions { SessionTtl = TimeSpan.FromSeconds(2), CacheEnabled = false });
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse($"etcd://127.0.0.1:{etcd.ClientPort}/{root}"), token);
        ServiceUrl provider = EtcdRegistryTransportTests.Provider("com.example.Greeter", 20880);
        var listener = new Listener();

        await registry.SubscribeAsync(EtcdRegistryTransportTests.Subscription("com.example.Greeter"), listener, token);
        await registry.RegisterAsync(provider, token);

        IReadOnlyList<ServiceUrl> seen = await listener.Seen.Task.WaitAsync(token);
        Assert.That(seen, Is.EqualTo(new[] { provider }));

        // Past several TTLs the registration is still there: the engine's heartbeats keep the lease alive.
        await Task.Delay(TimeSpan.FromSeconds(5), token);
        Assert.That(await registry.LookupAsync(EtcdRegistryTransportTests.Subscription("com.example.Greeter"), token), Is.EqualTo(new[] { provider }));
    }

    private sealed class Listener : INotifyListener
    {
        public TaskCompletionSource<IReadOnlyList<ServiceUrl>> Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
        {
            if (urls.Count > 0 && !urls[0].IsEmptyMarker)
            {
                Seen.TrySetResult(urls);
            }

            return ValueTask.CompletedTask;
        }
    }
}
