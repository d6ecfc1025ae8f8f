using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RegistryKit.Diagnostics;

namespace RegistryKit.Samples.WorkerService;

/// <summary>
/// Logs the registry's health and the <c>RegistryKit</c> meter's totals every <see cref="StatusLogOptions.Interval"/>.
/// It listens to the meter the way an exporter does (OpenTelemetry, <c>dotnet-counters</c>): a
/// <see cref="MeterListener"/> sums the counters and the heartbeat durations, and reads the pending retries when it logs.
/// </summary>
internal sealed partial class RegistryStatusLogger : BackgroundService
{
    private const string RetriesPending = "registrykit.retries.pending";

    private readonly HealthCheckService _health;
    private readonly IMeterFactory _meterFactory;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<RegistryStatusLogger> _logger;
    private readonly TimeSpan _interval;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, double> _totals = new(StringComparer.Ordinal);
    private readonly MeterListener _listener = new();

    public RegistryStatusLogger(HealthCheckService health, IMeterFactory meterFactory, TimeProvider timeProvider, IOptions<StatusLogOptions> options, ILogger<RegistryStatusLogger> logger)
    {
        _health = health;
        _meterFactory = meterFactory;
        _timeProvider = timeProvider;
        _interval = options.Value.Interval;
        _logger = logger;
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Gets the current totals by name: counters summed, histograms as <c>.count</c> and <c>.sum</c>, gauges as last read.</summary>
    public IReadOnlyDictionary<string, double> ReadTotals()
    {
        lock (_lock)
        {
            // Observable instruments are read on demand; their previous reading is replaced, not added to.
            foreach (string gauge in _totals.Keys.Where(k => k.StartsWith(RetriesPending, StringComparison.Ordinal)).ToList())
            {
                _totals[gauge] = 0;
            }
        }

        _listener.RecordObservableInstruments();
        lock (_lock)
        {
            return new SortedDictionary<string, double>(_totals, StringComparer.Ordinal);
        }
    }

    public override void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                HealthReport report = await _health.CheckHealthAsync(stoppingToken);
                string description = report.Entries.TryGetValue("registrykit", out HealthReportEntry entry) ? entry.Description ?? "" : "";
                LogStatus(report.Status, description, Format(ReadTotals()));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        // Only this container's meter: another host in the same process (a test's) has a meter of the same name.
        if (instrument.Meter.Name == RegistryDiagnostics.Name && ReferenceEquals(instrument.Meter.Scope, _meterFactory))
        {
            listener.EnableMeasurementEvents(instrument);
        }
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string name = instrument.Name;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            // The outcome splits attempts and heartbeat durations; the other tags (operation, retry kind) are summed over.
            if (tag.Key == "registrykit.outcome")
            {
                name = $"{name}.{tag.Value}";
            }
        }

        lock (_lock)
        {
            if (instrument is Histogram<double>)
            {
                _totals[name + ".count"] = _totals.GetValueOrDefault(name + ".count") + 1;
                _totals[name + ".sum"] = _totals.GetValueOrDefault(name + ".sum") + value;
            }
            else
            {
                _totals[name] = _totals.GetValueOrDefault(name) + value;
            }
        }
    }

    private static string Format(IReadOnlyDictionary<string, double> totals)
    {
        double Get(string name) => totals.GetValueOrDefault(name);
        double beats = Get("registrykit.heartbeat.duration.success.count");
        double meanMs = beats == 0 ? 0 : Get("registrykit.heartbeat.duration.success.sum") / beats * 1000;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"registrations {Get("registrykit.registration.attempts.success")} ok / {Get("registrykit.registration.attempts.failure")} failed, " +
            $"heartbeats {Get("registrykit.heartbeats.sent")} sent / {Get("registrykit.heartbeats.failed")} failed (mean {meanMs:0.0} ms), " +
            $"retries pending {Get(RetriesPending)}, session recoveries {Get("registrykit.session.recoveries")}");
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Registry {Status} ({Description}); {Metrics}")]
    private partial void LogStatus(HealthStatus status, string description, string metrics);
}
