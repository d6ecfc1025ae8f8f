using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using RegistryKit.Diagnostics;
using RegistryKit.Hosting;
using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;

namespace RegistryKit.Tests.Hosting;

/// <summary>
/// Metrics, spans and redaction, seen the way an app sees them: a real host, a <see cref="MeterListener"/>, an
/// <see cref="ActivityListener"/>, a logger provider and the cache folder.
/// </summary>
[CancelAfter(30_000)]
[NonParallelizable] // Activity listeners are process-wide.
public class ObservabilityTests
{
    private static readonly ServiceUrl s_consumer = ServiceUrl.Parse("consumer://10.0.0.9/greeter");

    private ManualTimeProvider _time = null!;
    private CollectingLoggerProvider _logs = null!;
    private string _cacheDirectory = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _logs = new CollectingLoggerProvider();
        _cacheDirectory = Path.Combine(Path.GetTempPath(), "registrykit-tests", Guid.NewGuid().ToString("N"));
    }

    [TearDown]
    public void TearDown()
    {
        _logs.Dispose();
        if (Directory.Exists(_cacheDirectory))
        {
            Directory.Delete(_cacheDirectory, recursive: true);
        }
    }

    [Test]
    public async Task Metrics_CountRegistrationsHeartbeatsRetriesNotificationsRecoveriesAndCacheWrites()
    {
        using IHost host = Build();
        using var metrics = new MetricsRecorder(host.Services.GetRequiredService<IMeterFactory>());
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server) == 1);
        IRegistry registry = await host.Services.GetRequiredService<RegistryFactory>().GetRegistryAsync();
        var listener = new RecordingListener();
        await registry.SubscribeAsync(s_consumer, listener);
        await VirtualTimeDriver.WaitUntilAsync(() => metrics.Sum("registrykit.notifications.delivered") >= 1);
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1));

        Assert.That(metrics.Sum("registrykit.registration.attempts", ("registrykit.operation", "register"), ("registrykit.outcome", "success")), Is.EqualTo(1));
        Assert.That(metrics.Sum("registrykit.heartbeats.sent"), Is.EqualTo(2), "one keep-alive every TTL/3 = 5 s");
        Assert.That(metrics.Count("registrykit.heartbeat.duration"), Is.EqualTo(2));
        Assert.That(metrics.Sum("registrykit.heartbeats.failed"), Is.Zero);
        await VirtualTimeDriver.WaitUntilAsync(() => metrics.Sum("registrykit.cache.writes") >= 1);

        // Down: keep-alives fail, the session is lost after three, re-registration fails and waits to be retried.
        server.Faults.MakeUnreachable(TimeSpan.FromSeconds(40));
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(1));
        Assert.That(metrics.Sum("registrykit.heartbeats.failed"), Is.EqualTo(3));
        Assert.That(metrics.Sum("registrykit.session.recoveries"), Is.EqualTo(1));
        Assert.That(metrics.Sum("registrykit.registration.attempts", ("registrykit.operation", "register"), ("registrykit.outcome", "failure")), Is.GreaterThanOrEqualTo(1));
        Assert.That(metrics.Observe("registrykit.retries.pending", ("registrykit.retry.kind", "register")), Is.EqualTo(1));

        // Back: the retry lands and nothing waits any more.
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(1));
        Assert.That(metrics.Observe("registrykit.retries.pending", ("registrykit.retry.kind", "register")), Is.Zero);
        Assert.That(metrics.Sum("registrykit.registration.attempts", ("registrykit.operation", "register"), ("registrykit.outcome", "success")), Is.EqualTo(2));
        Assert.That(metrics.Sum("registrykit.cache.write_failures"), Is.Zero);
        await host.StopAsync();
    }

    [Test]
    public async Task Spans_WrapRegisterSubscribeHeartbeatRecoverAndUnregister_TaggedWithTheServiceKey()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RegistryDiagnostics.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(activities);
        using IHost host = Build();
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server) == 1);
        IRegistry registry = await host.Services.GetRequiredService<RegistryFactory>().GetRegistryAsync();
        await registry.SubscribeAsync(s_consumer, new RecordingListener());
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));
        server.Restart(loseState: true);
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));
        await VirtualTimeDriver.WaitUntilAsync(() => Providers(server) == 1);
        await host.StopAsync();

        Activity register = spans.First(a => a.OperationName == "registrykit.register");
        Assert.That(register.GetTagItem("registrykit.service"), Is.EqualTo("greeter"));
        Assert.That(register.GetTagItem("registrykit.category"), Is.EqualTo("providers"));
        Assert.That(register.Kind, Is.EqualTo(ActivityKind.Client));
        Assert.That(spans.First(a => a.OperationName == "registrykit.subscribe").GetTagItem("registrykit.service"), Is.EqualTo("greeter"));
        Assert.That(spans.Count(a => a.OperationName == "registrykit.heartbeat"), Is.GreaterThanOrEqualTo(1));
        Activity lost = spans.First(a => a.OperationName == "registrykit.heartbeat" && a.Status == ActivityStatusCode.Error);
        Assert.That(lost.GetTagItem("error.type"), Is.EqualTo(typeof(Transport.RegistrySessionLostException).FullName));
        Assert.That(spans.Single(a => a.OperationName == "registrykit.recover").GetTagItem("registrykit.recover.registrations"), Is.EqualTo(1));
        Assert.That(spans.Count(a => a.OperationName == "registrykit.unregister"), Is.EqualTo(1));
    }

    [Test]
    public async Task ACanaryPassword_InTheRegistryAddressAndAProviderUrl_ReachesNoLogExceptionSpanToStringOrFile()
    {
        const string Canary = "CANARY-9f27c1";
        var spanTags = new ConcurrentQueue<string>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RegistryDiagnostics.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                spanTags.Enqueue(a.DisplayName + " " + a.StatusDescription);
                foreach (KeyValuePair<string, object?> tag in a.TagObjects)
                {
                    spanTags.Enqueue($"{tag.Key}={tag.Value}");
                }
            },
        };
        ActivitySource.AddActivityListener(activities);
        using IHost host = Build(
            configuration: new Dictionary<string, string?> { ["RegistryKit:Address"] = $"memory://admin:{Canary}@registry.local:2379/?password={Canary}" },
            registration: o => o.Parameters["password"] = Canary);
        InMemoryRegistryServer server = host.Services.GetRequiredService<InMemoryRegistryServer>();
        ServiceRegistrations registrations = host.Services.GetRequiredService<ServiceRegistrations>();
        List<string> seen = [];

        // Start while the registry is down, so retries, failures and the disk cache all log.
        server.Faults.MakeUnreachable(TimeSpan.FromSeconds(20));
        await host.StartAsync();
        await VirtualTimeDriver.WaitUntilAsync(() => registrations.GetStatus()[0].State == RegistrationState.Registered);
        RegistryFactory factory = host.Services.GetRequiredService<RegistryFactory>();
        IRegistry registry = await factory.GetRegistryAsync();
        var provider = ServiceUrl.Parse($"dubbo://svc:{Canary}@10.0.0.8:20880/greeter?token={Canary}&check=true");
        RegistryException refused = Assert.ThrowsAsync<RegistryException>(async () => await registry.RegisterAsync(provider))!;
        seen.Add(refused.ToString());
        // Retries at 5, 15 and 35 s, each stretched by up to 20 %: the third (at most 42 s) finds the registry back.
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1));
        await registry.RegisterAsync(provider);
        var listener = new RecordingListener();
        await registry.SubscribeAsync(s_consumer, listener);
        await VirtualTimeDriver.WaitUntilAsync(() => listener.View.TryGetValue("providers", out IReadOnlyList<ServiceUrl>? list) && list.Count == 2);
        await VirtualTimeDriver.WaitUntilAsync(() => Directory.Exists(_cacheDirectory) && Directory.EnumerateFiles(_cacheDirectory, "*.json").Any(f => ReadShared(f).Contains("20880", StringComparison.Ordinal)));
        server.Restart(loseState: true);
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        HealthReport health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        seen.Add(registry.ToString()!);
        seen.Add(registry.Url.ToString());
        seen.Add(registry.GetStatus().ToString());
        seen.Add(factory.DefaultAddress!.ToString());
        seen.AddRange(factory.Registries.Select(r => r.Url.ToString()));
        seen.AddRange(registrations.GetStatus().Select(s => s.ToString()));
        seen.AddRange(listener.Lists.SelectMany(list => list).Select(url => url.ToString()));
        seen.AddRange(health.Entries.Select(e => $"{e.Value.Description} {string.Join(",", e.Value.Data)}"));
        await host.StopAsync();
        host.Dispose(); // saves the cache one last time and releases its lock
        seen.AddRange(_logs.Entries.SelectMany(e => new[] { e.Message, e.Exception ?? string.Empty }.Concat(e.Values)));
        seen.AddRange(spanTags);
        seen.AddRange(Directory.EnumerateFiles(_cacheDirectory, "*", SearchOption.AllDirectories).SelectMany(f => new[] { f, ReadShared(f) }));

        Assert.That(_logs.Entries, Has.Count.GreaterThan(10), "the scenario logged");
        Assert.That(_logs.Entries.Any(e => e.Message.Contains("svc:***@10.0.0.8:20880", StringComparison.Ordinal)), Is.True, "the provider URL was logged, redacted");
        Assert.That(refused.Message, Does.Contain("admin:***@registry.local:2379"), "the registry address was shown, redacted");
        Assert.That(spanTags, Is.Not.Empty, "the scenario traced");
        Assert.That(seen.Where(text => text.Contains(Canary, StringComparison.Ordinal)), Is.Empty);
        Assert.That(provider.ToFullString(), Does.Contain(Canary), "the wire form keeps it: only what people read is redacted");
    }

    /// <summary>Reads a file another process (the cache's writer) may hold open.</summary>
    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static int Providers(InMemoryRegistryServer server) =>
        server.GetEntries().Count(e => e.Key.Contains("/providers/", StringComparison.Ordinal) && e.Value.StartsWith("http://", StringComparison.Ordinal));

    private IHost Build(Dictionary<string, string?>? configuration = null, Action<ServiceRegistrationOptions>? registration = null)
    {
        HostApplicationBuilder builder = TestHosts.CreateBuilder(_time, _logs, configuration);
        builder.Services.AddRegistry(o => o.CacheDirectory = _cacheDirectory).UseInMemory().AddRegistration("greeter", o =>
        {
            o.Host = "10.0.0.7";
            o.Port = 8080;
            registration?.Invoke(o);
        });
        builder.Services.AddHealthChecks().AddRegistryKit();
        return builder.Build();
    }

    /// <summary>Records the measurements of one container's <c>RegistryKit</c> meter.</summary>
    private sealed class MetricsRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

        public MetricsRecorder(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RegistryDiagnostics.Name && ReferenceEquals(instrument.Meter.Scope, scope))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
            _listener.Start();
        }

        public double Sum(string name, params (string Key, string Value)[] tags) => Matching(name, tags).Sum(m => m.Value);

        public int Count(string name) => Matching(name, []).Count();

        /// <summary>Reads an observable instrument now.</summary>
        public double Observe(string name, params (string Key, string Value)[] tags)
        {
            int before = _measurements.Count;
            _listener.RecordObservableInstruments();
            return _measurements.Skip(before).Where(m => m.Name == name && HasTags(m.Tags, tags)).Sum(m => m.Value);
        }

        public void Dispose() => _listener.Dispose();

        private IEnumerable<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string name, (string Key, string Value)[] tags) =>
            _measurements.Where(m => m.Name == name && HasTags(m.Tags, tags));

        private static bool HasTags(KeyValuePair<string, object?>[] actual, (string Key, string Value)[] wanted) =>
            wanted.All(w => actual.Any(a => a.Key == w.Key && Equals(a.Value, w.Value)));
    }
}
