using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Testing.Conformance;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;
using RegistryKit.Transport;

namespace RegistryKit.Tests.Registry;

[CancelAfter(20_000)]
public class FailbackRegistryTests
{
    private static readonly ServiceUrl s_registryUrl = ServiceUrl.Parse("memory://");
    private static readonly ServiceUrl s_greeter = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter?category=providers");

    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;
    private InMemoryRegistryServer _server = null!;
    private readonly List<FailbackRegistry> _registries = [];

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(10) });
        _server = new InMemoryRegistryServer(_time);
    }

    [TearDown]
    public async Task TearDown()
    {
        _server.Faults.Clear();
        foreach (FailbackRegistry registry in _registries)
        {
            await registry.DisposeAsync();
        }

        _registries.Clear();
        _timer.Dispose();
        _server.Dispose();
    }

    [Test]
    public void Defaults_ArePinned()
    {
        var options = new RegistryOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.RetryPeriod, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(options.MaxRetryDelay, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(options.RetryJitter, Is.EqualTo(0.2));
            Assert.That(options.MaxConcurrentRetries, Is.EqualTo(8));
            Assert.That(options.MaxRetries, Is.Null, "never give up by default");
            Assert.That(options.SessionTtl, Is.EqualTo(TimeSpan.FromSeconds(15)));
            Assert.That(options.Check, Is.True);
            Assert.That(options.EmptyProtection, Is.False);
            Assert.That(options.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(options.HeartbeatFailureThreshold, Is.EqualTo(3));
            Assert.That(options.CacheEnabled, Is.True);
            Assert.That(options.CacheDirectory, Is.Null, "the default folder under local application data");
        });
    }

    [TestCase(nameof(RegistryOptions.RetryPeriod))]
    [TestCase(nameof(RegistryOptions.MaxRetryDelay))]
    [TestCase(nameof(RegistryOptions.RetryJitter))]
    [TestCase(nameof(RegistryOptions.MaxConcurrentRetries))]
    [TestCase(nameof(RegistryOptions.MaxRetries))]
    public void Options_OutOfRange_ThrowNamingTheSetting(string setting)
    {
        var options = new RegistryOptions();
        switch (setting)
        {
            case nameof(RegistryOptions.RetryPeriod): options.RetryPeriod = TimeSpan.Zero; break;
            case nameof(RegistryOptions.MaxRetryDelay): options.MaxRetryDelay = TimeSpan.FromSeconds(1); break;
            case nameof(RegistryOptions.RetryJitter): options.RetryJitter = 1.5; break;
            case nameof(RegistryOptions.MaxConcurrentRetries): options.MaxConcurrentRetries = 0; break;
            default: options.MaxRetries = 0; break;
        }

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.That(exception!.ParamName, Is.EqualTo(setting));
        Assert.That(exception.Message, Does.Contain("RegistryOptions." + setting));
    }

    [Test]
    public async Task Register_RegistryUp_StoresTheUrlUnderASession()
    {
        FailbackRegistry registry = CreateRegistry();

        await registry.RegisterAsync(Provider(1));

        Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1) }));
        Assert.That(registry.IsAvailable, Is.True);
        Assert.That(registry.PendingRetries.Total, Is.Zero);
    }

    [Test]
    public void Register_Null_ThrowsBeforeAnythingChanges()
    {
        FailbackRegistry registry = CreateRegistry();

        Assert.That(async () => await registry.RegisterAsync(null!), Throws.ArgumentNullException);
        Assert.That(registry.Registered, Is.Empty);
    }

    [Test]
    public async Task Register_TransientFailureWithCheckOff_RetriesInBackgroundUntilRegistered()
    {
        FailbackRegistry registry = CreateRegistry(check: false);
        _server.Faults.FailNextCalls(1);

        await registry.RegisterAsync(Provider(1));

        Assert.That(registry.PendingRetries, Is.EqualTo(new PendingRetries(1, 0, 0, 0)));
        Assert.That(ServerUrls(), Is.Empty);

        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.That(ServerUrls(), Is.Empty, "the first retry waits the retry period");

        _time.Advance(TimeSpan.FromSeconds(1.1));
        Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1) }));
        Assert.That(registry.PendingRetries.Total, Is.Zero);
    }

    [Test]
    public void Register_TransientFailureWithCheckOn_ThrowsWithCauseAndRecordsNothing()
    {
        FailbackRegistry registry = CreateRegistry(check: true);
        _server.Faults.FailNextCalls(1);

        var exception = Assert.ThrowsAsync<RegistryException>(async () => await registry.RegisterAsync(Provider(1)));

        Assert.That(exception!.InnerException, Is.InstanceOf<RegistryTransportException>());
        Assert.That(exception.Message, Does.Contain("com.example.Greeter"));
        Assert.That(registry.Registered, Is.Empty);
        Assert.That(registry.PendingRetries, Is.EqualTo(new PendingRetries(0, 1, 0, 0)), "a write that may have landed is cleaned up in the background");
    }

    [Test]
    public async Task Register_ReplyLostWithCheckOn_ThrowsAndTheWriteThatLandedIsRemoved()
    {
        FailbackRegistry registry = CreateRegistry(check: true);
        await registry.RegisterAsync(Provider(1));
        _server.Faults.LoseNextReplies(1);

        Assert.That(async () => await registry.RegisterAsync(Provider(2)), Throws.InstanceOf<RegistryException>());
        Assert.That(ServerUrls(), Does.Contain(Provider(2)), "the write took effect before the reply was lost");

        _time.Advance(TimeSpan.FromSeconds(6));

        Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1) }), "no zombie outlives the failed call");
        Assert.That(registry.PendingRetries.Total, Is.Zero);
    }

    [Test]
    public async Task Unregister_FailsWithCheckOn_ThrowsAndKeepsRetryingInTheBackground()
    {
        FailbackRegistry registry = CreateRegistry(check: true);
        await registry.RegisterAsync(Provider(1));
        _server.Faults.FailNextCalls(1);

        Assert.That(async () => await registry.UnregisterAsync(Provider(1)), Throws.InstanceOf<RegistryException>().With.Message.Contains("retried in the background"));
        _time.Advance(TimeSpan.FromSeconds(6));

        Assert.That(ServerUrls(), Is.Empty);
    }

    [TestCase("empty://10.0.0.1:1/com.example.Greeter")]
    [TestCase("dubbo://10.0.0.1:1/*")]
    [TestCase("dubbo://10.0.0.1:1")]
    public void Register_UrlThatCannotBeARegistration_ThrowsBeforeAnythingChanges(string text)
    {
        FailbackRegistry registry = CreateRegistry();

        Assert.That(async () => await registry.RegisterAsync(ServiceUrl.Parse(text)), Throws.ArgumentException.With.Property("ParamName").EqualTo("url"));
        Assert.That(registry.Registered, Is.Empty);
        Assert.That(_server.SessionCount, Is.Zero);
    }

    [Test]
    public async Task Register_UrlSaysCheckFalse_RetriesEvenWhenRegistryChecks()
    {
        FailbackRegistry registry = CreateRegistry(check: true);
        _server.Faults.FailNextCalls(1);

        await registry.RegisterAsync(Provider(1).WithParameter("check", "false"));

        Assert.That(registry.PendingRetries.Register, Is.EqualTo(1));
    }

    [Test]
    public async Task Register_ConsumerUrl_NeverThrowsOnCheck()
    {
        FailbackRegistry registry = CreateRegistry(check: true);
        _server.Faults.FailNextCalls(1);

        await registry.RegisterAsync(ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter?category=consumers"));

        Assert.That(registry.PendingRetries.Register, Is.EqualTo(1));
    }

    [Test]
    public async Task Register_PermanentFailure_ThrowsWithoutRetryEvenWithCheckOff()
    {
        using var strict = new InMemoryRegistryServer(_time, new InMemoryRegistryServerOptions { MaxValueLength = 10 });
        FailbackRegistry registry = CreateRegistry(check: false, server: strict);
        await Task.CompletedTask;

        Assert.That(async () => await registry.RegisterAsync(Provider(1)), Throws.InstanceOf<RegistryException>());
        Assert.That(registry.PendingRetries.Total, Is.Zero);
        Assert.That(registry.Registered, Is.Empty);
    }

    [Test]
    public async Task Retry_RegistryDownForAnHour_NeverGivesUpByDefault_Dubbo291_Dubbo6810_Dubbo12593()
    {
        // Dubbo gave up after 3 retries until 2023 and lost registrations for good (#291, #6810, #12593).
        FailbackRegistry registry = CreateRegistry(check: false);
        _server.Faults.MakeUnreachable(TimeSpan.FromHours(1));
        await registry.RegisterAsync(Provider(1));

        for (int minute = 0; minute < 59; minute++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            Assert.That(registry.PendingRetries.Register, Is.EqualTo(1), $"still retrying after {minute + 1} min");
        }

        // The outage ends; backoff is capped at one minute (plus 20 % jitter), so within 72 s it is registered.
        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(72));
        Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1) }));
        Assert.That(registry.PendingRetries.Total, Is.Zero);
    }

    [Test]
    public async Task Retry_MaxRetriesSet_GivesUpAfterThatMany()
    {
        FailbackRegistry registry = CreateRegistry(check: false, configure: o => o.MaxRetries = 2);
        _server.Faults.MakeUnreachable(TimeSpan.FromHours(1));
        await registry.RegisterAsync(Provider(1));

        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(registry.PendingRetries.Total, Is.Zero);
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 2004), Is.EqualTo(1));
    }

    [Test]
    public async Task Retry_Backoff_DoublesUpToTheCapWithUpwardJitter()
    {
        var transport = new CountingTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl));
        FailbackRegistry registry = CreateRegistry(check: false, transport: transport, configure: o => o.RetryJitter = 0);
        _server.Faults.MakeUnreachable(TimeSpan.FromHours(1));
        await registry.RegisterAsync(Provider(1));
        var attemptsAt = new List<TimeSpan>();
        DateTimeOffset start = _time.GetUtcNow();
        int seen = transport.OpenSessionCalls;

        for (int second = 0; second < 200; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            if (transport.OpenSessionCalls != seen)
            {
                seen = transport.OpenSessionCalls;
                attemptsAt.Add(_time.GetUtcNow() - start);
            }
        }

        Assert.That(attemptsAt.Take(5).Select(t => t.TotalSeconds), Is.EqualTo(new double[] { 5, 15, 35, 75, 135 }));
    }

    [Test]
    public async Task Unregister_CancelsAPendingRegisterRetry()
    {
        FailbackRegistry registry = CreateRegistry(check: false);
        _server.Faults.FailNextCalls(1);
        await registry.RegisterAsync(Provider(1));
        Assert.That(registry.PendingRetries.Register, Is.EqualTo(1));

        await registry.UnregisterAsync(Provider(1));
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That(registry.PendingRetries.Total, Is.Zero);
        Assert.That(ServerUrls(), Is.Empty);
    }

    [Test]
    public async Task Register_CancelsAPendingUnregisterRetry()
    {
        FailbackRegistry registry = CreateRegistry(check: false);
        await registry.RegisterAsync(Provider(1));
        _server.Faults.FailNextCalls(1);
        await registry.UnregisterAsync(Provider(1));
        Assert.That(registry.PendingRetries.Unregister, Is.EqualTo(1));

        await registry.RegisterAsync(Provider(1));
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That(registry.PendingRetries.Total, Is.Zero);
        Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1) }));
    }

    [Test]
    public async Task Unregister_FinishingBeforeAnInFlightRegister_LeavesNoZombie()
    {
        var transport = new CountingTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl));
        FailbackRegistry registry = CreateRegistry(transport: transport);
        await registry.RegisterAsync(Provider(1));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.RegisterGate = gate;

        ValueTask lateRegister = registry.RegisterAsync(Provider(2));
        await registry.UnregisterAsync(Provider(2));
        transport.RegisterGate = null;
        gate.SetResult();
        await lateRegister;
        Assert.That(ServerUrls(), Does.Contain(Provider(2)), "the late register landed after the delete");

        _time.Advance(TimeSpan.FromMilliseconds(20));

        Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1) }), "the registry converged on the last intent");
        Assert.That(registry.PendingRetries.Total, Is.Zero);
    }

    [Test]
    public async Task Subscribe_DeliversFullListsAndEmptyMarkerWhenTheCategoryEmpties()
    {
        FailbackRegistry provider = CreateRegistry();
        FailbackRegistry consumer = CreateRegistry();
        var listener = new RecordingListener();

        await consumer.SubscribeAsync(s_greeter, listener);
        await listener.WaitForAsync(list => list is [{ IsEmptyMarker: true }]);

        await provider.RegisterAsync(Provider(1));
        await provider.RegisterAsync(Provider(2));
        await listener.WaitForAsync(list => list.Count == 2);

        await provider.UnregisterAsync(Provider(1));
        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(2));

        await provider.UnregisterAsync(Provider(2));
        await listener.WaitForAsync(list => list.Count == 1 && list[0].IsEmptyMarker && list[0].Category == "providers");
        Assert.That(listener.Lists, Has.All.Not.Empty, "a listener never gets an empty list");
    }

    [Test]
    public async Task Subscribe_PermanentFailure_ThrowsAndRollsTheListenerBack()
    {
        using var strict = new InMemoryRegistryServer(_time, new InMemoryRegistryServerOptions { MaxWatches = 1 });
        await using IRegistryTransport squatter = new InMemoryRegistryTransportFactory(strict).CreateTransport(s_registryUrl);
        IAsyncDisposable taken = await squatter.WatchAsync(s_greeter, new RecordingWatcher(), default);
        FailbackRegistry consumer = CreateRegistry(server: strict);
        var listener = new RecordingListener();

        Assert.That(async () => await consumer.SubscribeAsync(s_greeter, listener), Throws.InstanceOf<RegistryException>());
        Assert.That(consumer.SubscriptionCount, Is.Zero);
        Assert.That(consumer.PendingRetries.Total, Is.Zero);

        await taken.DisposeAsync();
        await consumer.SubscribeAsync(s_greeter, listener);
        await listener.WaitForAsync(list => list is [{ IsEmptyMarker: true }]);
    }

    [Test]
    public async Task Unsubscribe_CancelsAPendingSubscribeRetry()
    {
        FailbackRegistry consumer = CreateRegistry();
        var listener = new RecordingListener();
        _server.Faults.FailNextCalls(1);
        await consumer.SubscribeAsync(s_greeter, listener);
        Assert.That(consumer.PendingRetries.Subscribe, Is.EqualTo(1));

        await consumer.UnsubscribeAsync(s_greeter, listener);
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That(consumer.PendingRetries.Total, Is.Zero);
        Assert.That(_server.WatchCount, Is.Zero);
    }

    [Test]
    public async Task Listener_UnsubscribingFromInsideItsOwnNotify_DoesNotDeadlock()
    {
        FailbackRegistry consumer = CreateRegistry();
        var unsubscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        RecordingListener listener = null!;
        listener = new RecordingListener
        {
            OnNotify = async (_, _) =>
            {
                await consumer.UnsubscribeAsync(s_greeter, listener);
                unsubscribed.TrySetResult();
            },
        };

        await consumer.SubscribeAsync(s_greeter, listener);

        await unsubscribed.Task.WaitAsync(TestContext.CurrentContext.CancellationToken);
        Assert.That(consumer.SubscriptionCount, Is.Zero);
    }

    [Test]
    public async Task Dispose_ListenerIgnoringCancellation_IsNotWaitedForBeyondTheShutdownTimeout()
    {
        FailbackRegistry consumer = CreateRegistry();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();
        await consumer.SubscribeAsync(s_greeter, new RecordingListener
        {
            OnNotify = async (_, _) =>
            {
                entered.TrySetResult();
                await never.Task;
            },
        });
        await entered.Task.WaitAsync(TestContext.CurrentContext.CancellationToken);
        _registries.Remove(consumer);

        ValueTask dispose = consumer.DisposeAsync();
        Assert.That(dispose.IsCompleted, Is.False, "disposal waits for the listener first");
        _time.Advance(TimeSpan.FromSeconds(5));

        await dispose;
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 2016), Is.EqualTo(1));
        never.SetResult();
    }

    [Test]
    public async Task Listener_GetsListsInOrderAndNeverTwoAtOnce()
    {
        FailbackRegistry provider = CreateRegistry();
        FailbackRegistry consumer = CreateRegistry();
        int inFlight = 0;
        int maxInFlight = 0;
        var sizes = new List<int>();
        var listener = new RecordingListener
        {
            OnNotify = async (urls, _) =>
            {
                maxInFlight = Math.Max(maxInFlight, Interlocked.Increment(ref inFlight));
                sizes.Add(urls[0].IsEmptyMarker ? 0 : urls.Count);
                await Task.Yield();
                Interlocked.Decrement(ref inFlight);
            },
        };
        await consumer.SubscribeAsync(s_greeter, listener);

        for (int port = 1; port <= 50; port++)
        {
            await provider.RegisterAsync(Provider(port));
        }

        await listener.WaitForAsync(list => list.Count == 50);
        Assert.That(maxInFlight, Is.EqualTo(1));
        Assert.That(sizes, Is.Ordered.Ascending, "a newer list never arrives before an older one");
    }

    [Test]
    public async Task Subscribe_SeveralCategories_OneCategoryPerCall()
    {
        FailbackRegistry provider = CreateRegistry();
        FailbackRegistry consumer = CreateRegistry();
        var listener = new RecordingListener();
        await provider.RegisterAsync(Provider(1));
        await provider.RegisterAsync(ServiceUrl.Parse("route://0.0.0.0/com.example.Greeter?category=routers&rule=x"));

        await consumer.SubscribeAsync(ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter?category=providers,routers"), listener);

        await listener.WaitForAsync(list => list[0].Category == "routers");
        await listener.WaitForAsync(list => list[0].Category == "providers");
        Assert.That(listener.Lists.Select(list => list.Select(u => u.Category).Distinct().Count()), Has.All.EqualTo(1));
        Assert.That(listener.View["providers"], Is.EquivalentTo(new[] { Provider(1) }));
    }

    [Test]
    public async Task Subscribe_OnlyMatchingProvidersAreDelivered()
    {
        FailbackRegistry provider = CreateRegistry();
        FailbackRegistry consumer = CreateRegistry();
        var listener = new RecordingListener();
        await provider.RegisterAsync(Provider(1).WithParameter("version", "1.0"));
        await provider.RegisterAsync(Provider(2).WithParameter("version", "2.0"));

        await consumer.SubscribeAsync(s_greeter.WithParameter("version", "2.0"), listener);

        await listener.WaitForAsync(list => list.Count == 1 && list[0].Port == 2);
        Assert.That(listener.Lists.SelectMany(l => l).Select(u => u.Port), Has.None.EqualTo(1));
    }

    [Test]
    public async Task Subscribe_EmptyProtectionOn_KeepsTheLastProviders_Dubbo9213()
    {
        FailbackRegistry provider = CreateRegistry();
        FailbackRegistry consumer = CreateRegistry(configure: o => o.EmptyProtection = true);
        var listener = new RecordingListener();
        await provider.RegisterAsync(Provider(1));
        await consumer.SubscribeAsync(s_greeter, listener);
        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(1));

        await provider.UnregisterAsync(Provider(1));
        await provider.RegisterAsync(Provider(2));
        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(2));

        Assert.That(listener.Lists.SelectMany(l => l), Has.None.Matches<ServiceUrl>(u => u.IsEmptyMarker));
    }

    [Test]
    public async Task Notify_OlderRevisionAfterNewer_IsIgnored_Dubbo5961()
    {
        var transport = new CountingTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl));
        FailbackRegistry consumer = CreateRegistry(transport: transport);
        var listener = new RecordingListener();
        await consumer.SubscribeAsync(s_greeter, listener);
        ITransportWatcher watcher = transport.Watchers.Single();

        watcher.OnSnapshot(new TransportSnapshot(50, [Provider(1).ToFullString(), Provider(2).ToFullString()]));
        watcher.OnSnapshot(new TransportSnapshot(40, [Provider(1).ToFullString()]));
        await listener.WaitForAsync(list => list.Count == 2);
        watcher.OnSnapshot(new TransportSnapshot(51, [Provider(3).ToFullString()]));
        await listener.WaitForAsync(list => list.Count == 1 && list[0].Port == 3);

        Assert.That(consumer.StaleSnapshots, Is.EqualTo(1));
        Assert.That(listener.Lists.Where(l => !l[0].IsEmptyMarker).Select(l => l.Count), Is.EqualTo(new[] { 2, 1 }));
    }

    [Test]
    public async Task Notify_MalformedEntries_AreSkippedAndCounted()
    {
        var transport = new CountingTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl));
        FailbackRegistry consumer = CreateRegistry(transport: transport);
        var listener = new RecordingListener();
        await consumer.SubscribeAsync(s_greeter, listener);

        transport.Watchers.Single().OnSnapshot(new TransportSnapshot(7, ["not a url", "dubbo://h:99999/x", new string('\0', 1000), Provider(1).ToFullString()]));

        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(1));
        Assert.That(consumer.MalformedEntries, Is.EqualTo(3));
    }

    [Test]
    public async Task Notify_EveryEntryMalformed_IsIgnoredAndTheLastViewStays()
    {
        var transport = new CountingTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl));
        FailbackRegistry consumer = CreateRegistry(transport: transport);
        var listener = new RecordingListener();
        await consumer.SubscribeAsync(s_greeter, listener);
        ITransportWatcher watcher = transport.Watchers.Single();
        watcher.OnSnapshot(new TransportSnapshot(10, [Provider(1).ToFullString()]));
        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(1));

        watcher.OnSnapshot(new TransportSnapshot(11, ["garbage", "dubbo://h:99999/x"]));

        Assert.That(await consumer.LookupAsync(s_greeter), Is.EqualTo(new[] { Provider(1) }), "garbage did not empty the view");
        Assert.That(consumer.MalformedEntries, Is.EqualTo(2));
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 2017), Is.EqualTo(1));

        watcher.OnSnapshot(new TransportSnapshot(12, []));

        Assert.That(await consumer.LookupAsync(s_greeter), Is.Empty, "a truly empty snapshot still empties it");
        await listener.WaitForAsync(list => list is [{ IsEmptyMarker: true }] && listener.Lists.Count > 1);
    }

    [Test]
    public async Task Unsubscribe_LastListener_DropsTheNotifiedState_Dubbo6676()
    {
        FailbackRegistry consumer = CreateRegistry();
        var listener = new RecordingListener();
        await consumer.SubscribeAsync(s_greeter, listener);
        await listener.WaitForAsync(_ => true);

        await consumer.UnsubscribeAsync(s_greeter, listener);

        Assert.That(consumer.SubscriptionCount, Is.Zero);
        Assert.That(_server.WatchCount, Is.Zero);
        int before = listener.Lists.Count;
        await CreateRegistry().RegisterAsync(Provider(1));
        Assert.That(listener.Lists, Has.Count.EqualTo(before));
    }

    [Test]
    public async Task SlowListener_DoesNotDelayAnotherListener()
    {
        FailbackRegistry provider = CreateRegistry();
        FailbackRegistry consumer = CreateRegistry();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = new RecordingListener { OnNotify = async (_, token) => await release.Task.WaitAsync(token) };
        var fast = new RecordingListener();
        await consumer.SubscribeAsync(s_greeter, slow);
        await consumer.SubscribeAsync(s_greeter, fast);

        await provider.RegisterAsync(Provider(1));

        await fast.WaitForAsync(list => list.Count == 1 && list[0] == Provider(1));
        Assert.That(slow.Lists, Is.Empty, "the slow listener is still in its first call");
        release.SetResult();
        await slow.WaitForAsync(list => list.Count == 1 && list[0] == Provider(1));
    }

    [Test]
    public async Task ThrowingListener_IsLoggedAndKeepsReceiving()
    {
        FailbackRegistry provider = CreateRegistry();
        FailbackRegistry consumer = CreateRegistry();
        var threw = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        var listener = new RecordingListener
        {
            OnNotify = (_, _) =>
            {
                if (++calls == 1)
                {
                    threw.SetResult();
                    throw new InvalidOperationException("listener bug");
                }

                return ValueTask.CompletedTask;
            },
        };
        await consumer.SubscribeAsync(s_greeter, listener);
        await threw.Task.WaitAsync(TestContext.CurrentContext.CancellationToken);

        await provider.RegisterAsync(Provider(1));

        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(1));
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 2010), Is.EqualTo(1));
    }

    [Test]
    public async Task RegistryRestartLosingState_SessionRecoversAndSubscriptionResumes()
    {
        FailbackRegistry provider = CreateRegistry();
        FailbackRegistry consumer = CreateRegistry();
        var listener = new RecordingListener();
        await provider.RegisterAsync(Provider(1));
        await consumer.SubscribeAsync(s_greeter, listener);
        await listener.WaitForAsync(list => list.Count == 1 && list[0] == Provider(1));

        _server.Restart(loseState: true);
        Assert.That(ServerUrls(), Is.Empty);

        // The next heartbeat (a third of the 15 s TTL) hears "session unknown"; recovery registers again at once.
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1) }));
        Assert.That(provider.SessionRecoveries, Is.EqualTo(1));

        // The consumer's watch was lost in the restart; it subscribes again after the retry period. Its view did
        // not change, so nothing is delivered twice; the next change is.
        Assert.That(consumer.PendingRetries.Subscribe, Is.EqualTo(1));
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.That(consumer.PendingRetries.Total, Is.Zero);
        Assert.That(_server.WatchCount, Is.EqualTo(1));

        await provider.RegisterAsync(Provider(2));
        await listener.WaitForAsync(list => list.Count == 2);
    }

    [Test]
    public async Task Recover_DropsStaleRetryTasksBeforeRegisteringAgain_Dubbo7665()
    {
        FailbackRegistry registry = CreateRegistry(check: false);
        await registry.RegisterAsync(Provider(1));
        _server.Restart(loseState: true);
        _server.Faults.FailNextCalls(1);
        await registry.RegisterAsync(Provider(2));
        Assert.That(registry.PendingRetries.Register, Is.EqualTo(1));

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(registry.SessionRecoveries, Is.EqualTo(1));
        Assert.That(registry.PendingRetries.Total, Is.Zero, "recovery replaced the stale retry instead of running beside it");
        Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1), Provider(2) }));
    }

    [Test]
    public async Task Outage_ManyRegistrations_OneSessionAttemptPerBackoffStep_NotOnePerRegistration()
    {
        // The failback storm: with every registration retrying on its own, each retry tried to open a session, so a
        // registry down for minutes took a hundred failed calls per backoff step here (ten thousand in the benchmark).
        var transport = new CountingTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl));
        FailbackRegistry registry = CreateRegistry(check: false, transport: transport, configure: o => o.RetryJitter = 0);
        for (int port = 1; port <= 100; port++)
        {
            await registry.RegisterAsync(Provider(port));
        }

        _server.Faults.MakeUnreachable(TimeSpan.FromMinutes(3));
        int opensBefore = transport.OpenSessionCalls;
        int registersBefore = transport.RegisterCalls;

        // Heartbeats fail for 15 s, the session is declared lost, recovery finds no session: from then on one attempt
        // to open one per backoff step (5, 10, 20, 40, 60 s ...), whatever the number of registrations.
        _time.Advance(TimeSpan.FromMinutes(3) - TimeSpan.FromSeconds(1));
        Assert.Multiple(() =>
        {
            Assert.That(registry.IsAvailable, Is.False);
            Assert.That(transport.OpenSessionCalls - opensBefore, Is.InRange(1, 8), "one attempt per backoff step");
            Assert.That(transport.RegisterCalls - registersBefore, Is.Zero, "no registration is tried without a session");
            Assert.That(registry.PendingRetries.Register, Is.EqualTo(100), "every registration is still waiting");
        });

        // Back: the next step opens a session and writes all of them (backoff is capped at 60 s).
        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.Multiple(() =>
        {
            Assert.That(ServerUrls(), Has.Count.EqualTo(100));
            Assert.That(registry.PendingRetries.Total, Is.Zero);
            Assert.That(transport.RegisterCalls - registersBefore, Is.EqualTo(100), "each registration written once");
        });
    }

    [Test]
    public async Task SessionOpened_WritesTheRegistrationsWaitingForOne_AtOnce()
    {
        var transport = new CountingTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl));
        FailbackRegistry registry = CreateRegistry(check: false, transport: transport);
        _server.Faults.MakeUnreachable(TimeSpan.FromSeconds(30));
        await registry.RegisterAsync(Provider(1));
        await registry.RegisterAsync(Provider(2));
        await registry.RegisterAsync(Provider(3));
        await registry.UnregisterAsync(Provider(3));
        Assert.That(registry.PendingRetries.Register, Is.EqualTo(2));

        // The registry is back before the waiting retry's next step; a new registration opens a session, and the two
        // waiting ones follow at once rather than at that step. The one unregistered meanwhile stays unwritten.
        _time.Advance(TimeSpan.FromSeconds(31));
        int opens = transport.OpenSessionCalls;
        await registry.RegisterAsync(Provider(4));
        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1), Provider(2), Provider(4) }));
            Assert.That(transport.OpenSessionCalls - opens, Is.EqualTo(1));
            Assert.That(registry.PendingRetries.Register, Is.Zero);
        });
    }

    [Test]
    public async Task Recovery_AWaitingRegistrationFailsWithTheNewSessionOpen_TheRestAreStillWritten()
    {
        // Found by review: recovery handed the registrations after a failed one over to the session retry whenever the
        // failed one was waiting for a session, even with the new session open, and those were then written nowhere.
        var transport = new ScriptTransport();
        FailbackRegistry registry = CreateRegistry(check: false, transport: transport);
        ServiceUrl a = Provider(1), x = Provider(2), b = Provider(3), c = Provider(4), d = Provider(5);
        foreach (ServiceUrl url in new[] { a, x, b, c })
        {
            await registry.RegisterAsync(url);
        }

        // The registry forgets the session at D's registration; recovery starts and its session open is held.
        transport.HoldOpens();
        transport.SessionLostAt = d;
        await registry.RegisterAsync(d);

        // X is registered again meanwhile, and its caller gives up while the open is held: X now waits for a session.
        using (var gaveUp = new CancellationTokenSource())
        {
            ValueTask again = registry.RegisterAsync(x, gaveUp.Token);
            await gaveUp.CancelAsync();
            Assert.That(async () => await again, Throws.InstanceOf<OperationCanceledException>());
        }

        // The new session opens; recovery writes A, X fails (transiently) with it open, and B, C and D must follow.
        transport.FailingRegistration = x;
        transport.ReleaseOpens();
        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(transport.WrittenUnder("s2"), Is.SupersetOf(new[] { a, b, c, d }));
            Assert.That(registry.PendingRetries.Register, Is.EqualTo(1), "X retries on its own");
        });
    }

    [Test]
    public async Task Heartbeats_KeepTheRegistrationAliveIndefinitely()
    {
        FailbackRegistry registry = CreateRegistry();
        await registry.RegisterAsync(Provider(1));

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.That(ServerUrls(), Is.EquivalentTo(new[] { Provider(1) }));
        Assert.That(_server.ExpiredSessionCount, Is.Zero);
        Assert.That(registry.SessionRecoveries, Is.Zero);
    }

    [Test]
    public async Task Lookup_ReturnsNotifiedUrlsWithoutMarkers_ElseAsksTheRegistry()
    {
        FailbackRegistry provider = CreateRegistry();
        FailbackRegistry consumer = CreateRegistry();
        Assert.That(await consumer.LookupAsync(s_greeter), Is.Empty);

        await provider.RegisterAsync(Provider(1));
        Assert.That(await consumer.LookupAsync(s_greeter), Is.EquivalentTo(new[] { Provider(1) }));

        var listener = new RecordingListener();
        await consumer.SubscribeAsync(s_greeter, listener);
        await listener.WaitForAsync(list => list.Count == 1);
        _server.Faults.MakeUnreachable(TimeSpan.FromHours(1));
        Assert.That(await consumer.LookupAsync(s_greeter), Is.EquivalentTo(new[] { Provider(1) }), "served from the notified state");
    }

    [Test]
    public void Lookup_RegistryDownAndNothingKnown_ThrowsRegistryException()
    {
        FailbackRegistry consumer = CreateRegistry();
        _server.Faults.MakeUnreachable(TimeSpan.FromHours(1));

        Assert.That(async () => await consumer.LookupAsync(s_greeter), Throws.InstanceOf<RegistryException>());
    }

    [Test]
    public async Task Dispose_UnregistersClosesTheSessionAndLeavesNothingRunning()
    {
        FailbackRegistry registry = CreateRegistry(check: false);
        await registry.RegisterAsync(Provider(1));
        await registry.SubscribeAsync(s_greeter, new RecordingListener());
        _server.Faults.FailNextCalls(1);
        await registry.RegisterAsync(Provider(2));

        await registry.DisposeAsync();

        Assert.That(ServerUrls(), Is.Empty);
        Assert.That(_server.SessionCount, Is.Zero);
        Assert.That(_server.WatchCount, Is.Zero);
        Assert.That(_timer.PendingTimeouts, Is.Zero, "no retry or heartbeat is left on the wheel");
        Assert.That(registry.IsAvailable, Is.False);
        Assert.That(async () => await registry.RegisterAsync(Provider(3)), Throws.InstanceOf<ObjectDisposedException>());
        Assert.That(async () => await registry.DisposeAsync(), Throws.Nothing);
    }

    [Test]
    public async Task Dispose_WhileASessionIsBeingOpened_LeavesNoSessionBehind()
    {
        FailbackRegistry registry = CreateRegistry();
        _registries.Remove(registry);
        _server.Faults.CallDelay = TimeSpan.FromSeconds(1);
        ValueTask register = registry.RegisterAsync(Provider(1));

        ValueTask dispose = registry.DisposeAsync();
        _server.Faults.CallDelay = TimeSpan.Zero;
        _time.Advance(TimeSpan.FromSeconds(1));
        await dispose;

        Assert.That(async () => await register, Throws.InstanceOf<ObjectDisposedException>());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(_server.SessionCount, Is.Zero, "the session opened during disposal was closed");
        Assert.That(ServerUrls(), Is.Empty);
    }

    [Test]
    public async Task Retries_ComingDueTogether_RunAtMostTheConfiguredNumberAtOnce()
    {
        var transport = new CountingTransport(new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registryUrl));
        FailbackRegistry registry = CreateRegistry(check: false, transport: transport, configure: o => o.MaxConcurrentRetries = 3);
        await registry.RegisterAsync(Provider(1));
        _server.Faults.MakeUnreachable(TimeSpan.FromSeconds(4));
        for (int port = 2; port <= 21; port++)
        {
            await registry.RegisterAsync(Provider(port));
        }

        _server.Faults.CallDelay = TimeSpan.FromMilliseconds(100);
        for (int step = 0; step < 600 && registry.PendingRetries.Total > 0; step++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.That(registry.PendingRetries.Total, Is.Zero);
        Assert.That(ServerUrls(), Has.Count.EqualTo(21));
        Assert.That(transport.MaxConcurrentRegisters, Is.LessThanOrEqualTo(3));
        Assert.That(transport.MaxConcurrentRegisters, Is.GreaterThan(1), "retries do run in parallel up to the bound");
    }

    private readonly CollectingLogger<FailbackRegistry> _logger = new();

    private FailbackRegistry CreateRegistry(
        bool check = false,
        InMemoryRegistryServer? server = null,
        IRegistryTransport? transport = null,
        Action<RegistryOptions>? configure = null)
    {
        var options = new RegistryOptions { Check = check };
        configure?.Invoke(options);
        transport ??= new InMemoryRegistryTransportFactory(server ?? _server).CreateTransport(s_registryUrl);
        var registry = new FailbackRegistry(s_registryUrl, transport, _timer, _time, options, _logger, new Random(42));
        _registries.Add(registry);
        return registry;
    }

    private HashSet<ServiceUrl> ServerUrls() => [.. _server.GetEntries().Values.Select(ServiceUrl.Parse)];

    private static ServiceUrl Provider(int port) => ServiceUrl.Parse($"dubbo://10.0.0.1:{port}/com.example.Greeter");

    /// <summary>
    /// A transport the test steers call by call: sessions s1, s2 …, opens it can hold, the registry forgetting the session
    /// at one registration, one URL whose registration fails transiently. It records what was written under which session.
    /// </summary>
    private sealed class ScriptTransport : IRegistryTransport
    {
        private readonly List<(string Session, ServiceUrl Url)> _written = [];
        private TaskCompletionSource? _openGate;
        private int _sessions;

        public ServiceUrl? SessionLostAt { get; set; }

        public ServiceUrl? FailingRegistration { get; set; }

        // Continuations run inline when released, so that the recovery they resume has finished when ReleaseOpens returns.
        public void HoldOpens() => _openGate = new TaskCompletionSource();

        public void ReleaseOpens() => _openGate?.SetResult();

        public IEnumerable<ServiceUrl> WrittenUnder(string session) => _written.Where(w => w.Session == session).Select(w => w.Url);

        public async ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken)
        {
            if (_openGate is { } gate)
            {
                await gate.Task;
            }

            return new RegistrySession($"s{++_sessions}", ttl, ttl / 3);
        }

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
        {
            if (url == SessionLostAt && session.Id == "s1")
            {
                return ValueTask.FromException(new RegistrySessionLostException("The registry forgot the session."));
            }

            if (url == FailingRegistration)
            {
                return ValueTask.FromException(new RegistryTransportException("Transient failure.", isTransient: true));
            }

            _written.Add((session.Id, url));
            return ValueTask.CompletedTask;
        }

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new TransportSnapshot(0, []));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Wraps a transport to count calls and capture watchers.</summary>
    private sealed class CountingTransport(IRegistryTransport inner) : IRegistryTransport
    {
        private int _registersInFlight;

        public int OpenSessionCalls { get; private set; }

        public int RegisterCalls { get; private set; }

        public int MaxConcurrentRegisters { get; private set; }

        public List<ITransportWatcher> Watchers { get; } = [];

        /// <summary>While set, register calls wait for it before reaching the registry.</summary>
        public TaskCompletionSource? RegisterGate { get; set; }

        public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken)
        {
            OpenSessionCalls++;
            return inner.OpenSessionAsync(ttl, cancellationToken);
        }

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken) => inner.KeepAliveAsync(session, cancellationToken);

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => inner.CloseSessionAsync(session, cancellationToken);

        public async ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
        {
            RegisterCalls++;
            MaxConcurrentRegisters = Math.Max(MaxConcurrentRegisters, Interlocked.Increment(ref _registersInFlight));
            try
            {
                if (RegisterGate is { } gate)
                {
                    await gate.Task;
                }

                await inner.RegisterAsync(session, url, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _registersInFlight);
            }
        }

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => inner.UnregisterAsync(session, url, cancellationToken);

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken)
        {
            Watchers.Add(watcher);
            return inner.WatchAsync(subscription, watcher, cancellationToken);
        }

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) => inner.LookupAsync(subscription, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
