using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;

namespace RegistryKit.Tests.Reliability;

/// <summary>
/// Real threads racing one registry. The engine's promise (docs/reliability.md, Concurrency): each call records its
/// intent under the engine's lock when it starts, and the registry converges on the intents as they stand. So for a
/// key whose last call did not overlap another call on that key, the end state is that call's intent; for a key whose
/// last calls overlapped, it is the intent of one of them (whichever took the lock last), and the registry agrees
/// with the engine's recorded intent either way.
/// </summary>
[CancelAfter(90_000)]
public class ConcurrencyTests
{
    private const int Tasks = 16;
    private const int Operations = 100_000;
    private const int Services = 4;

    [Test]
    public async Task SixteenTasksRacing100000Operations_OnSharedKeys_EndInTheLastIntentPerKey_WithoutExceptionOrDeadlock()
    {
        var time = new ManualTimeProvider();
        using var server = new InMemoryRegistryServer(time);
        await using var factory = new RegistryFactory(
            [new("memory", new InMemoryRegistryTransportFactory(server))],
            new RegistryOptions { Check = false, CacheEnabled = false },
            time);
        var registry = (FailbackRegistry)await factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));
        ServiceUrl[] providers = [.. Enumerable.Range(0, 8).Select(i => ServiceUrl.Parse($"dubbo://10.0.0.{i}:20880/svc{i % Services}"))];
        ServiceUrl[] subscriptions = [.. Enumerable.Range(0, Services).Select(i => ServiceUrl.Parse($"consumer://10.0.0.99/svc{i}"))];
        LatestListener[] listeners = [.. Enumerable.Range(0, 2).Select(_ => new LatestListener())];
        int registrationKeys = providers.Length;
        int keys = registrationKeys + (subscriptions.Length * listeners.Length);
        var history = new List<Call>[keys];
        for (int k = 0; k < keys; k++)
        {
            history[k] = [];
        }

        long sequence = 0;
        int seed = Random.Shared.Next();

        // Racing: each call takes a global sequence number right before it starts and another when it has returned.
        // Own threads, released together: the in-memory registry answers synchronously, so on a small pool the tasks
        // would otherwise run one after another.
        using var go = new ManualResetEventSlim();
        Task[] racers = [.. Enumerable.Range(0, Tasks).Select(t => Task.Factory.StartNew(async () =>
        {
            go.Wait();
            var random = new Random(seed + t);
            var mine = new List<(int Key, Call Call)>(Operations / Tasks);
            for (int i = 0; i < Operations / Tasks; i++)
            {
                int key = random.Next(keys);
                bool on = random.Next(2) == 0;
                long start = Interlocked.Increment(ref sequence);
                if (key < registrationKeys)
                {
                    await (on ? registry.RegisterAsync(providers[key]) : registry.UnregisterAsync(providers[key]));
                }
                else
                {
                    (ServiceUrl url, LatestListener listener) = SubscriptionKey(key - registrationKeys);
                    await (on ? registry.SubscribeAsync(url, listener) : registry.UnsubscribeAsync(url, listener));
                }

                mine.Add((key, new Call(start, Interlocked.Increment(ref sequence), on)));
            }

            lock (history)
            {
                mine.ForEach(entry => history[entry.Key].Add(entry.Call));
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap())];
        go.Set();

        // A deadlock detector, not a timing assertion: the work takes seconds; a hang shows as a timeout here.
        await Task.WhenAll(racers).WaitAsync(TimeSpan.FromSeconds(60));

        // Writes that lost a race were rescheduled on the wheel: let virtual time run them until nothing is pending.
        await VirtualTimeDriver.WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            return registry.PendingRetries.Total == 0 && ServerHolds(server).SetEquals(registry.Registered);
        });

        int decided = 0;
        for (int k = 0; k < keys; k++)
        {
            bool actual = k < registrationKeys
                ? registry.Registered.Contains(providers[k])
                : registry.HasListener(SubscriptionKey(k - registrationKeys).Url, SubscriptionKey(k - registrationKeys).Listener);
            bool[] allowed = AllowedEndStates(history[k], out bool isDecided);
            decided += isDecided ? 1 : 0;
            Assert.That(allowed, Does.Contain(actual), $"key {k}: {history[k].Count} calls, seed {seed}");
        }

        Assert.That(history.Sum(h => h.Count), Is.EqualTo(Operations / Tasks * Tasks));
        int overlaps = history.Sum(calls => calls.OrderBy(c => c.Start).Zip(calls.OrderBy(c => c.Start).Skip(1)).Count(p => p.Second.Start < p.First.End));
        Assert.That(overlaps, Is.GreaterThan(Operations / 100), $"the tasks did race on shared keys; seed {seed}");
        Assert.That(ServerHolds(server), Is.EquivalentTo(registry.Registered), "the registry holds exactly the intents");
        Assert.That(server.WatchCount, Is.EqualTo(subscriptions.Count(s => listeners.Any(l => registry.HasListener(s, l)))), "one watch per subscription that has a listener");
        TestContext.Out.WriteLine($"Seed {seed}: {overlaps} calls overlapped the previous call on their key; {decided} of {keys} keys ended on a call that overlapped no other.");

        // And the listeners subscribed now are the ones that hear a change.
        ServiceUrl[] probes = [.. Enumerable.Range(0, Services).Select(i => ServiceUrl.Parse($"dubbo://10.0.1.{i}:20880/svc{i}"))];
        foreach (ServiceUrl probe in probes)
        {
            await registry.RegisterAsync(probe);
        }

        for (int k = 0; k < subscriptions.Length * listeners.Length; k++)
        {
            (ServiceUrl url, LatestListener listener) = SubscriptionKey(k);
            if (registry.HasListener(url, listener))
            {
                ServiceUrl probe = probes[k / listeners.Length];
                await VirtualTimeDriver.WaitUntilAsync(() => listener.Holds(probe));
            }
        }

        (ServiceUrl Url, LatestListener Listener) SubscriptionKey(int index) =>
            (subscriptions[index / listeners.Length], listeners[index % listeners.Length]);
    }

    /// <summary>
    /// The end states the engine allows for one key: the last call's intent, or, if calls overlapped it, the intent of
    /// any call that had not returned when it started (either may have taken the engine's lock last).
    /// </summary>
    private static bool[] AllowedEndStates(List<Call> calls, out bool decided)
    {
        if (calls.Count == 0)
        {
            decided = true;
            return [false];
        }

        Call last = calls.MaxBy(call => call.Start)!;
        bool[] overlapping = [.. calls.Where(call => call != last && call.End > last.Start).Select(call => call.On).Distinct()];
        decided = overlapping.Length == 0;
        return [.. overlapping.Append(last.On).Distinct()];
    }

    private static HashSet<ServiceUrl> ServerHolds(InMemoryRegistryServer server) =>
        [.. server.GetEntries().Values.Select(ServiceUrl.Parse)];

    private sealed record Call(long Start, long End, bool On);

    /// <summary>Keeps only the newest list per category: a hundred thousand operations make many notifications.</summary>
    private sealed class LatestListener : INotifyListener
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, IReadOnlyList<ServiceUrl>> _latest = [];

        public bool Holds(ServiceUrl url)
        {
            lock (_lock)
            {
                return _latest.Values.Any(list => list.Contains(url));
            }
        }

        public ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                _latest[urls[0].Path + "?" + urls[0].Category] = urls;
            }

            return ValueTask.CompletedTask;
        }
    }
}
