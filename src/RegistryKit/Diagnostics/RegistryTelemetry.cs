using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using RegistryKit.Registry;

namespace RegistryKit.Diagnostics;

/// <summary>
/// The metrics and traces of registry clients: one <see cref="Meter"/> and the library's <see cref="ActivitySource"/>,
/// both named <see cref="RegistryDiagnostics.Name"/>.
/// </summary>
/// <remarks>
/// <para>
/// There is one instance per <see cref="IMeterFactory"/> (so one per container) and one process-wide instance for
/// factories built without one, so that every instrument exists once per meter however many
/// <see cref="RegistryFactory"/> instances share it. The meter factory owns its meter; the process-wide meter lives as
/// long as the process.
/// </para>
/// <para>
/// Tags carry service keys, operations and outcomes only: never a registry address or a URL, which may hold
/// credentials.
/// </para>
/// </remarks>
internal sealed class RegistryTelemetry
{
    internal static readonly ActivitySource ActivitySource = new(RegistryDiagnostics.Name, RegistryDiagnostics.Version);

    private static readonly Lazy<RegistryTelemetry> s_shared = new(() => new RegistryTelemetry(new Meter(RegistryDiagnostics.Name, RegistryDiagnostics.Version)));
    private static readonly ConditionalWeakTable<IMeterFactory, RegistryTelemetry> s_byMeterFactory = [];

    private readonly ConcurrentDictionary<FailbackRegistry, byte> _registries = new();
    private readonly Counter<long> _writes;
    private readonly Counter<long> _heartbeatsSent;
    private readonly Counter<long> _heartbeatsFailed;
    private readonly Histogram<double> _heartbeatDuration;
    private readonly Counter<long> _notifications;
    private readonly Counter<long> _recoveries;
    private readonly Counter<long> _cacheWrites;
    private readonly Counter<long> _cacheFailures;

    private RegistryTelemetry(Meter meter)
    {
        _writes = meter.CreateCounter<long>(
            "registrykit.registration.attempts", "{attempt}", "Register and unregister calls made to the registry, by operation and outcome.");
        _heartbeatsSent = meter.CreateCounter<long>(
            "registrykit.heartbeats.sent", "{heartbeat}", "Keep-alives the registry acknowledged.");
        _heartbeatsFailed = meter.CreateCounter<long>(
            "registrykit.heartbeats.failed", "{heartbeat}", "Keep-alives that failed, or were still unanswered after a whole interval.");
        _heartbeatDuration = meter.CreateHistogram(
            "registrykit.heartbeat.duration", "s", "How long a keep-alive took, acknowledged or not.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        meter.CreateObservableUpDownCounter(
            "registrykit.retries.pending", ObservePendingRetries, "{operation}", "Failed operations waiting to be retried, by kind.");
        _notifications = meter.CreateCounter<long>(
            "registrykit.notifications.delivered", "{notification}", "Lists handed to subscribers' listeners.");
        _recoveries = meter.CreateCounter<long>(
            "registrykit.session.recoveries", "{recovery}", "Times a lost session was replaced and everything registered again.");
        _cacheWrites = meter.CreateCounter<long>(
            "registrykit.cache.writes", "{write}", "Saves of the disk cache.");
        _cacheFailures = meter.CreateCounter<long>(
            "registrykit.cache.write_failures", "{write}", "Saves of the disk cache that failed after every attempt.");
    }

    /// <summary>Returns the telemetry on <paramref name="meterFactory"/>'s meter, or the process-wide one.</summary>
    public static RegistryTelemetry For(IMeterFactory? meterFactory) =>
        meterFactory is null
            ? s_shared.Value
            : s_byMeterFactory.GetValue(
                meterFactory,
                static factory => new RegistryTelemetry(factory.Create(new MeterOptions(RegistryDiagnostics.Name) { Version = RegistryDiagnostics.Version })));

    /// <summary>Starts counting the pending retries of <paramref name="registry"/>.</summary>
    public void Track(FailbackRegistry registry) => _registries.TryAdd(registry, 0);

    /// <summary>Stops counting them, once the registry is disposed.</summary>
    public void Untrack(FailbackRegistry registry) => _registries.TryRemove(registry, out _);

    public void RecordWrite(bool register, bool succeeded) =>
        _writes.Add(1, new(Tags.Operation, register ? "register" : "unregister"), new(Tags.Outcome, succeeded ? "success" : "failure"));

    /// <summary>Gets whether anyone collects heartbeat durations (otherwise the heartbeat path need not time its calls).</summary>
    public bool TimesHeartbeats => _heartbeatDuration.Enabled;

    public void RecordHeartbeat(bool succeeded, TimeSpan duration)
    {
        (succeeded ? _heartbeatsSent : _heartbeatsFailed).Add(1);
        _heartbeatDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(Tags.Outcome, succeeded ? "success" : "failure"));
    }

    /// <summary>A keep-alive still unanswered after a whole interval: counted failed (it has no duration yet).</summary>
    public void RecordHeartbeatOverdue() => _heartbeatsFailed.Add(1);

    public void RecordNotification() => _notifications.Add(1);

    public void RecordRecovery() => _recoveries.Add(1);

    public void RecordCacheWrite(bool succeeded) => (succeeded ? _cacheWrites : _cacheFailures).Add(1);

    /// <summary>Starts the span <paramref name="name"/> (one of <see cref="Spans"/>) on <paramref name="service"/>, when anyone listens.</summary>
    public static Activity? StartActivity(string name, ServiceUrl? service = null)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        Activity? activity = ActivitySource.StartActivity(name, ActivityKind.Client);
        if (activity is not null && service is not null)
        {
            activity.SetTag(Tags.Service, service.ServiceKey);
            activity.SetTag(Tags.Category, service.Category);
        }

        return activity;
    }

    /// <summary>Marks <paramref name="activity"/> failed with the exception's type (its message may quote addresses).</summary>
    public static void Fail(Activity? activity, Exception exception)
    {
        if (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            activity.SetTag(Tags.ErrorType, exception.GetType().FullName);
        }
    }

    private IEnumerable<Measurement<long>> ObservePendingRetries()
    {
        int register = 0, unregister = 0, subscribe = 0, unsubscribe = 0;
        foreach (FailbackRegistry registry in _registries.Keys)
        {
            PendingRetries pending = registry.PendingRetries;
            register += pending.Register;
            unregister += pending.Unregister;
            subscribe += pending.Subscribe;
            unsubscribe += pending.Unsubscribe;
        }

        return
        [
            new(register, new KeyValuePair<string, object?>(Tags.RetryKind, "register")),
            new(unregister, new KeyValuePair<string, object?>(Tags.RetryKind, "unregister")),
            new(subscribe, new KeyValuePair<string, object?>(Tags.RetryKind, "subscribe")),
            new(unsubscribe, new KeyValuePair<string, object?>(Tags.RetryKind, "unsubscribe")),
        ];
    }

    /// <summary>The span names.</summary>
    internal static class Spans
    {
        public const string Register = "registrykit.register";
        public const string Unregister = "registrykit.unregister";
        public const string Subscribe = "registrykit.subscribe";
        public const string Heartbeat = "registrykit.heartbeat";
        public const string Recover = "registrykit.recover";
    }

    /// <summary>The tag names.</summary>
    internal static class Tags
    {
        public const string Operation = "registrykit.operation";
        public const string Outcome = "registrykit.outcome";
        public const string RetryKind = "registrykit.retry.kind";
        public const string Service = "registrykit.service";
        public const string Category = "registrykit.category";
        public const string ErrorType = "error.type";
    }
}
