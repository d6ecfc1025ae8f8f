using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RegistryKit.Masters;
using RegistryKit.Registry;
using RegistryKit.Reporting;
using RegistryKit.Samples.CustomTransport.Master;
using RegistryKit.Samples.CustomTransport.Transport;
using RegistryKit.Timers;

namespace RegistryKit.Samples.CustomTransport.Worker;

/// <summary>
/// The sample's story. A worker registers with its master through <see cref="MultiMasterRegistration"/> (Spark style:
/// an active and a standby master) and heartbeats with <see cref="HealthReporter"/>'s reports, and registers the service
/// <c>greeter</c> through the <c>mymaster://</c> adapter. The master restarts with its state lost: the worker is told to
/// reconnect and registers again, and the registry client recovers its session and registers <c>greeter</c> again. Then
/// the worker stops and deregisters.
/// </summary>
internal static class WorkerStory
{
    private const string Root = "story";

    public static async Task<int> RunAsync(TextWriter output, StoryOptions story, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        long started = TimeProvider.System.GetTimestamp();
        void Say(string phase, string text) =>
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{TimeProvider.System.GetElapsedTime(started).TotalSeconds,5:0.0}s] {phase,-9} {text}"));

        await using MasterServer? active = story.InProcess ? await MasterServer.StartAsync(cancellationToken: cancellationToken) : null;
        await using MasterServer? standby = story.InProcess ? await MasterServer.StartAsync(new MasterServerOptions { Standby = true }, cancellationToken: cancellationToken) : null;
        IReadOnlyList<string> masters = story.InProcess ? [active!.Address, standby!.Address] : story.Masters;
        Say("masters", story.InProcess ? $"started an active master at {masters[0]} and a standby at {masters[1]}" : $"using {string.Join(", ", masters)}");

        using var http = new HttpClient();
        var watcher = new MasterView(http, masters[0]);
        var listener = new WorkerListener(text => Say("worker", text));
        try
        {
            // The registry client, as an app adds it: the adapter under its scheme, the address naming the master.
            var services = new ServiceCollection();
            services.AddSingleton(loggerFactory);
            services.AddRegistry(options =>
                {
                    options.Address = $"{MasterRegistryTransportFactory.Scheme}://{new Uri(masters[0]).Authority}/{Root}";
                    options.SessionTtl = TimeSpan.FromSeconds(3);
                    options.RetryPeriod = TimeSpan.FromMilliseconds(500);
                    options.MaxRetryDelay = TimeSpan.FromSeconds(2);
                    options.CacheEnabled = false;
                })
                .AddTransport<MasterRegistryTransportFactory>(MasterRegistryTransportFactory.Scheme);
            await using ServiceProvider provider = services.BuildServiceProvider();
            RegistryFactory registries = provider.GetRequiredService<RegistryFactory>();
            HashedWheelTimer timer = provider.GetRequiredService<HashedWheelTimer>();

            IRegistry registry = await registries.GetRegistryAsync(cancellationToken);
            await registry.RegisterAsync(ServiceUrl.Parse("http://127.0.0.1:8080/greeter?version=1.0&application=worker"), cancellationToken);

            var jobs = new WorkerMetrics();
            await using var reporter = new HealthReporter(
                timer, new SystemMetricsCollector(Path.GetTempPath()), [jobs], options: new HealthReporterOptions { ReportInterval = TimeSpan.FromSeconds(1) },
                logger: loggerFactory.CreateLogger<HealthReporter>());
            await using var registration = new MultiMasterRegistration(
                masters, WorkerId.Create(TimeProvider.System, "127.0.0.1", 7078), new HttpMasterClient(http), listener, timer,
                options: new MultiMasterOptions { WorkerTimeout = TimeSpan.FromSeconds(4), InitialRetryInterval = TimeSpan.FromSeconds(1), ProlongedRetryInterval = TimeSpan.FromSeconds(5) },
                logger: loggerFactory.CreateLogger<MultiMasterRegistration>())
            {
                HealthReporter = reporter,
            };
            reporter.Start();
            registration.Start();
            jobs.JobRan();

            // 1. Registered, heartbeating with health reports, and the service visible in the master's registry.
            WorkerView seen = await Expect("heartbeat", async () => (await watcher.WorkerAsync(registration.WorkerId, cancellationToken)) is { Report.Sequence: >= 3 } w ? w : null, "the master receives three health reports");
            Say("heartbeat", $"master sees {seen.Id}: {seen.Heartbeats} heartbeats, report #{seen.Report!.Sequence} (score {seen.Report.Score}, jobs.run {seen.Report.CustomMetrics.GetValueOrDefault("jobs.run")}, {seen.Report.Metrics.MemoryUsedBytes >> 20} MiB used)");
            await Expect("service", async () => (await watcher.EntriesAsync(cancellationToken)).Count == 1 ? "" : null, "the master's registry holds greeter");
            Say("service", $"master's registry holds greeter: {(await watcher.EntriesAsync(cancellationToken))[0]}");

            // 2. The master restarts and forgets everything.
            if (active is not null)
            {
                active.Restart();
                int before = listener.Registrations;
                Say("restart", "the master restarted with its state lost");
                await Expect("recover", async () => listener.Registrations > before && (await watcher.WorkerAsync(registration.WorkerId, cancellationToken)) is not null ? "" : null, "the worker registers again");
                await Expect("recover", async () => (await watcher.EntriesAsync(cancellationToken)).Count == 1 ? "" : null, "greeter is registered again");
                Say("recover", $"heartbeat answered 'reconnect'; worker registered again | greeter registered again after {registry.GetStatus().SessionRecoveries} session recovery");
            }

            // 3. Stop: the worker stops heartbeating, and the registry client deregisters and closes its session.
            await registration.DisposeAsync();
            await reporter.DisposeAsync();
            await registries.DestroyAllAsync();
            await Expect("stop", async () => (await watcher.EntriesAsync(cancellationToken)).Count == 0 ? "" : null, "greeter is deregistered");
            Say("stop", "worker stopped; greeter deregistered and the session closed");
            Say("summary", $"{listener.Registrations} registrations with the master, {active?.Workers.StaleReports ?? 0} stale reports");
            return listener.Failed ? 1 : 0;
        }
        catch (TimeoutException failure)
        {
            output.WriteLine($"FAILED: {failure.Message}");
            return 1;
        }

        async Task<T> Expect<T>(string phase, Func<Task<T?>> probe, string what)
            where T : class
        {
            long since = TimeProvider.System.GetTimestamp();
            while (true)
            {
                if (await probe() is { } value)
                {
                    return value;
                }

                if (listener.Failed || TimeProvider.System.GetElapsedTime(since) > story.PhaseLimit)
                {
                    throw new TimeoutException($"{phase}: {what} did not happen within {story.PhaseLimit.TotalSeconds:0} s.");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
    }

    /// <summary>The master seen from outside, through its HTTP API, as an operator would look.</summary>
    private sealed class MasterView(HttpClient http, string master)
    {
        public async Task<WorkerView?> WorkerAsync(string workerId, CancellationToken cancellationToken) =>
            (await http.GetFromJsonAsync<List<WorkerView>>($"{master}/v1/workers", MasterJson.Options, cancellationToken))?.FirstOrDefault(w => w.Id == workerId);

        public async Task<IReadOnlyList<string>> EntriesAsync(CancellationToken cancellationToken) =>
            (await http.GetFromJsonAsync<SnapshotMessage>($"{master}/v1/entries?prefix={Uri.EscapeDataString("/" + Root + "/")}", MasterJson.Options, cancellationToken))?.Entries ?? [];
    }
}
