using System.Globalization;
using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Transport;

namespace RegistryKit.Samples.Quickstart;

/// <summary>
/// The Quickstart's story, on the embedded in-memory registry. Each "process" (two providers, a consumer) has a
/// registry client of its own, as separate services would:
/// <list type="number">
/// <item>two providers of <c>greeter</c> register and heartbeat; a consumer subscribes and sees both;</item>
/// <item>the registry has an outage and comes back with its state lost; a consumer started meanwhile is served from the
/// disk cache;</item>
/// <item>failback and session recovery bring everything back;</item>
/// <item>one provider stops gracefully and the consumer sees it go.</item>
/// </list>
/// </summary>
internal static class QuickstartStory
{
    private static readonly ServiceUrl s_registry = ServiceUrl.Parse("memory:///quickstart?application=quickstart");
    private static readonly ServiceUrl s_subscription = ServiceUrl.Parse("consumer://127.0.0.1/greeter?version=1.0");

    public static async Task<int> RunAsync(TextWriter output, QuickstartTimings timings, TimeProvider time, CancellationToken cancellationToken)
    {
        string cache = Path.Combine(Path.GetTempPath(), "registrykit-quickstart-" + Guid.NewGuid().ToString("N"));
        long started = time.GetTimestamp();
        void Say(string phase, string text) =>
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{time.GetElapsedTime(started).TotalSeconds,6:0.0}s] {phase,-9} {text}"));

        using var server = new InMemoryRegistryServer(time);
        KeyValuePair<string, IRegistryTransportFactory>[] transports = [new("memory", new InMemoryRegistryTransportFactory(server))];
        RegistryFactory NewProcess(bool withCache) => new(transports, timings.Options(withCache ? cache : null), time);

        ServiceUrl[] greeters = [ServiceUrl.Parse("dubbo://127.0.0.1:20880/greeter?version=1.0"), ServiceUrl.Parse("dubbo://127.0.0.1:20881/greeter?version=1.0")];
        var failures = new List<string>();
        try
        {
            await using RegistryFactory provider1 = NewProcess(withCache: false);
            RegistryFactory provider2 = NewProcess(withCache: false);
            await using RegistryFactory consumerProcess = NewProcess(withCache: true);
            IRegistry first = await provider1.GetRegistryAsync(s_registry, cancellationToken);
            IRegistry second = await provider2.GetRegistryAsync(s_registry, cancellationToken);
            IRegistry consumer = await consumerProcess.GetRegistryAsync(s_registry, cancellationToken);
            var view = new ConsumerView();

            // 1. Register, subscribe, heartbeat.
            await first.RegisterAsync(greeters[0], cancellationToken);
            await second.RegisterAsync(greeters[1], cancellationToken);
            await consumer.SubscribeAsync(s_subscription, view, cancellationToken);
            await Expect("register", () => view.Ports.SetEquals([20880, 20881]), "the consumer sees both providers");
            Say("register", $"providers 20880, 20881 registered | consumer sees {view}");
            await Task.Delay(timings.SessionTtl, time, cancellationToken);
            Say("heartbeat", $"sessions kept alive | last heartbeat {Since(first)} ago | retries pending {Pending(first, second)}");

            // 2. Outage: the registry goes down and comes back with nothing in it.
            server.Restart(loseState: true);
            server.Faults.MakeUnreachable(timings.Outage);
            long outageStarted = time.GetTimestamp();
            Say("outage", $"registry down for {timings.Outage.TotalSeconds:0.#} s and restarted empty | consumer still sees {view}");
            await Expect("outage", () => Pending(first, second) > 0 || first.GetStatus().UnreachableFor is not null, "the providers notice the outage");
            await using (RegistryFactory lateProcess = NewProcess(withCache: true))
            {
                IRegistry late = await lateProcess.GetRegistryAsync(s_registry, cancellationToken);
                var lateView = new ConsumerView();
                await late.SubscribeAsync(s_subscription, lateView, cancellationToken);
                await Expect("cache", () => lateView.Ports.SetEquals([20880, 20881]), "a consumer started during the outage is served from the disk cache");
                Say("cache", $"a consumer started now sees {lateView} from the disk cache | retries pending {Pending(first, second)}");
            }

            // 3. Recovery: failback and session recovery register everything again; the consumer subscribes again.
            await Expect("recover", () => server.GetEntries().Count(e => e.Key.Contains("/providers/", StringComparison.Ordinal)) == 2 && view.Ports.SetEquals([20880, 20881]), "both providers are back");
            TimeSpan converged = time.GetElapsedTime(outageStarted) - timings.Outage;
            Say("recover", $"registry back | both providers registered again | consumer sees {view} | converged {Math.Max(0, converged.TotalSeconds):0.0} s after the outage");

            // 4. Graceful stop: provider 2 deregisters on shutdown.
            await provider2.DisposeAsync();
            await Expect("stop", () => view.Ports.SetEquals([20880]), "the consumer sees provider 20881 go");
            Say("stop", $"provider 20881 stopped and deregistered | consumer sees {view}");

            long recoveries = first.GetStatus().SessionRecoveries + second.GetStatus().SessionRecoveries;
            Say("summary", $"{view.Notifications} notifications, {recoveries} session recoveries, converged {Math.Max(0, converged.TotalSeconds):0.0} s after the outage");
        }
        catch (TimeoutException failure)
        {
            failures.Add(failure.Message);
        }
        finally
        {
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, recursive: true);
            }
        }

        foreach (string failure in failures)
        {
            output.WriteLine($"FAILED: {failure}");
        }

        return failures.Count == 0 ? 0 : 1;

        async Task Expect(string phase, Func<bool> condition, string what)
        {
            long since = time.GetTimestamp();
            while (!condition())
            {
                if (time.GetElapsedTime(since) > timings.PhaseLimit)
                {
                    throw new TimeoutException($"{phase}: {what} did not happen within {timings.PhaseLimit.TotalSeconds:0} s.");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
            }
        }
    }

    private static string Since(IRegistry registry) =>
        registry.GetStatus().TimeSinceLastHeartbeat is { } since ? $"{since.TotalSeconds:0.0} s" : "(none yet)";

    private static int Pending(params IRegistry[] registries) => registries.Sum(r => r.GetStatus().PendingRetries.Total);

    /// <summary>What the consumer knows: the ports of the providers in its last notification.</summary>
    private sealed class ConsumerView : INotifyListener
    {
        private volatile HashSet<int> _ports = [];
        private int _notifications;

        public HashSet<int> Ports => _ports;

        public int Notifications => Volatile.Read(ref _notifications);

        public ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _notifications);
            _ports = [.. urls.Where(u => !u.IsEmptyMarker).Select(u => u.Port)];
            return ValueTask.CompletedTask;
        }

        public override string ToString() => _ports.Count == 0 ? "no provider" : string.Join(", ", _ports.Order());
    }
}
