using System.Globalization;
using Microsoft.Extensions.Logging;
using RegistryKit.Registry;

namespace RegistryKit.Samples.Quickstart;

/// <summary>
/// The Quickstart's story. Each "process" (two providers, a consumer) has a registry client of its own, as separate
/// services would:
/// <list type="number">
/// <item>two providers of <c>greeter</c> register and heartbeat; a consumer subscribes and sees both;</item>
/// <item>the registry has an outage after which it has lost the providers; a consumer started meanwhile is served from
/// the disk cache;</item>
/// <item>failback and session recovery bring everything back;</item>
/// <item>one provider stops gracefully and the consumer sees it go.</item>
/// </list>
/// The registry is the embedded in-memory one, or a real etcd (<see cref="IQuickstartRegistry"/>).
/// </summary>
internal static class QuickstartStory
{
    /// <summary>The phases, in the order the story prints them.</summary>
    public static readonly IReadOnlyList<string> Phases = ["register", "heartbeat", "outage", "cache", "recover", "stop", "summary"];

    private static readonly ServiceUrl s_subscription = ServiceUrl.Parse("consumer://127.0.0.1/greeter?version=1.0");

    public static async Task<int> RunAsync(TextWriter output, QuickstartTimings timings, TimeProvider time, CancellationToken cancellationToken) =>
        await RunAsync(output, timings, time, registry: null, loggerFactory: null, cancellationToken);

    /// <summary>Runs the story against <paramref name="registry"/>, or the in-memory registry when it is null.</summary>
    public static async Task<int> RunAsync(
        TextWriter output, QuickstartTimings timings, TimeProvider time, IQuickstartRegistry? registry, ILoggerFactory? loggerFactory, CancellationToken cancellationToken)
    {
        string cache = Path.Combine(Path.GetTempPath(), "registrykit-quickstart-" + Guid.NewGuid().ToString("N"));
        long started = time.GetTimestamp();
        void Say(string phase, string text) =>
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{time.GetElapsedTime(started).TotalSeconds,6:0.0}s] {phase,-9} {text}"));

        await using IQuickstartRegistry backend = registry ?? new InMemoryQuickstartRegistry(time);
        using var metrics = new StoryMetrics();
        RegistryFactory NewProcess(bool withCache) => new(backend.Transports, timings.Options(withCache ? cache : null), time, loggerFactory: loggerFactory, meterFactory: metrics);

        ServiceUrl[] greeters = [ServiceUrl.Parse("dubbo://127.0.0.1:20880/greeter?version=1.0"), ServiceUrl.Parse("dubbo://127.0.0.1:20881/greeter?version=1.0")];
        var failures = new List<string>();
        var clients = new List<(string Name, IRegistry Registry)>();
        try
        {
            await using RegistryFactory provider1 = NewProcess(withCache: false);
            await using RegistryFactory provider2 = NewProcess(withCache: false); // stopped early, in phase 4
            await using RegistryFactory consumerProcess = NewProcess(withCache: true);
            IRegistry first = await provider1.GetRegistryAsync(backend.Address, cancellationToken);
            IRegistry second = await provider2.GetRegistryAsync(backend.Address, cancellationToken);
            IRegistry consumer = await consumerProcess.GetRegistryAsync(backend.Address, cancellationToken);
            clients.AddRange([("provider 20880", first), ("provider 20881", second), ("consumer", consumer)]);
            var view = new ConsumerView();

            // 1. Register, subscribe, heartbeat.
            await first.RegisterAsync(greeters[0], cancellationToken);
            await second.RegisterAsync(greeters[1], cancellationToken);
            await consumer.SubscribeAsync(s_subscription, view, cancellationToken);
            await Expect("register", () => view.Ports.SetEquals([20880, 20881]), "the consumer sees both providers");
            Say("register", $"providers 20880, 20881 registered | consumer sees {view}");
            await Task.Delay(timings.SessionTtl, time, cancellationToken);
            Say("heartbeat", $"sessions kept alive | {metrics.Total("registrykit.heartbeats.sent")} heartbeats acknowledged, last {Since(first)} ago | retries pending {Pending(first, second)}");

            // 2. Outage: the registry goes away, and when it is back it has lost the providers.
            TimeSpan outage = backend.OutageFor(timings);
            string what = backend.BeginOutage(outage);
            long outageStarted = time.GetTimestamp();
            Say("outage", $"{what} | consumer still sees {view}");
            await Expect("outage", () => Pending(first, second) > 0 || first.GetStatus().UnreachableFor is not null, "the providers notice the outage");
            await using (RegistryFactory lateProcess = NewProcess(withCache: true))
            {
                IRegistry late = await lateProcess.GetRegistryAsync(backend.Address, cancellationToken);
                var lateView = new ConsumerView();
                await late.SubscribeAsync(s_subscription, lateView, cancellationToken);
                await Expect("cache", () => lateView.Ports.SetEquals([20880, 20881]), "a consumer started during the outage is served from the disk cache");
                Say("cache", $"a consumer started now sees {lateView} from the disk cache | retries pending {Pending(first, second)}");
            }

            // 3. Recovery: once the registry is back, failback and session recovery register everything again and the
            // consumer's subscription picks up again.
            TimeSpan left = outage - time.GetElapsedTime(outageStarted);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, time, cancellationToken);
            }

            long back = time.GetTimestamp();
            int providers = 0;
            await ExpectAsync("recover", async () => view.Ports.SetEquals([20880, 20881]) && (providers = await backend.CountProvidersAsync(cancellationToken)) == 2, "both providers are back");
            TimeSpan converged = time.GetElapsedTime(back);
            Say("recover", $"registry back | it holds {providers} providers again | consumer sees {view} | converged {converged.TotalSeconds:0.0} s after the outage");

            // 4. Graceful stop: provider 2 deregisters on shutdown.
            await provider2.DisposeAsync(); // a second dispose at the end of the block does nothing
            await Expect("stop", () => view.Ports.SetEquals([20880]), "the consumer sees provider 20881 go");
            Say("stop", $"provider 20881 stopped: its session closed and its registration went with it | consumer sees {view}");

            const string Attempts = "registrykit.registration.attempts";
            Say("summary", $"register calls {metrics.Total(Attempts, "register|success")} ok, {metrics.Total(Attempts, "register|failure")} failed and retried | "
                + $"heartbeats {metrics.Total("registrykit.heartbeats.sent")} acknowledged, {metrics.Total("registrykit.heartbeats.failed")} failed | "
                + $"{metrics.Total("registrykit.session.recoveries")} session recoveries | {metrics.Total("registrykit.notifications.delivered")} notifications | "
                + $"converged {converged.TotalSeconds:0.0} s after the outage");
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

        Task Expect(string phase, Func<bool> condition, string what) => ExpectAsync(phase, () => ValueTask.FromResult(condition()), what);

        async Task ExpectAsync(string phase, Func<ValueTask<bool>> condition, string what)
        {
            long since = time.GetTimestamp();
            while (!await condition())
            {
                if (time.GetElapsedTime(since) > timings.PhaseLimit)
                {
                    // Each client's status, taken now, while they still run: what the reader needs to see why.
                    throw new TimeoutException(string.Join(
                        Environment.NewLine,
                        [$"{phase}: {what} did not happen within {timings.PhaseLimit.TotalSeconds:0} s.", .. clients.Select(c => $"  {c.Name}: {c.Registry.GetStatus()}")]));
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
            }
        }
    }

    /// <summary>Where each of <see cref="Phases"/> starts in <paramref name="output"/>; -1 for a phase it lacks.</summary>
    public static int[] PhasePositions(string output) => [.. Phases.Select(phase => output.IndexOf($"] {phase}", StringComparison.Ordinal))];

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
