using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Internal;
using RegistryKit.Timers;

namespace RegistryKit.Reporting;

/// <summary>
/// Produces a <see cref="HealthReport"/> at once and then at a fixed rate, keeps the latest for heartbeats to carry,
/// and sends each one through an optional sink, as PowerJob's worker reports its health to its server.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Reports are numbered 1, 2, 3 … within an <see cref="Incarnation"/> and carry the reporter's monotonic
/// <see cref="HealthReport.Uptime"/>, never a wall-clock time (PowerJob #218, #961).</item>
/// <item>A heartbeat sender attaches <see cref="Latest"/> as its payload; no send is needed for that.</item>
/// <item>With a sink, one send runs at a time: a report produced while the previous send is still running is not sent
/// (it is still <see cref="Latest"/>), and is counted in <see cref="SendsSkipped"/>. A failed send is logged and
/// counted in <see cref="SendsFailed"/>; it never stops the reports.</item>
/// <item>Reports are collected on the thread that produces them (the shared wheel's, after the first), outside the
/// reporter's lock and one at a time; a slow disk path or source delays the wheel, so keep sources quick (or give the
/// wheel a task scheduler).</item>
/// <item>Metric sources are the host's code and their data is not trusted: a source that throws, a value that is not
/// finite, an empty name or a name an earlier source gave are skipped, logged and counted.</item>
/// </list>
/// </remarks>
public sealed partial class HealthReporter : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Lock _collectLock = new();
    private readonly HashedWheelTimer _timer;
    private readonly SystemMetricsCollector _collector;
    private readonly IHealthMetricsSource[] _sources;
    private readonly string[] _sourceNames;
    private readonly IHealthReportSink? _sink;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ReportTask _reportTask;
    private readonly long _epoch;
    private HealthReport? _latest;
    private bool _started;
    private bool _stopped;
    private TaskCompletionSource? _sendDone;  // set while a send runs: one at a time
    private long _sequence;
    private WheelTimeout _next;
    private long _nextDue;
    private long _sendsSkipped;
    private long _sendsFailed;
    private long _sourceFailures;
    private long _metricsRejected;

    /// <summary>Creates the reporter; <see cref="Start"/> begins reporting.</summary>
    /// <param name="timer">The shared wheel the reports are scheduled on.</param>
    /// <param name="collector">Samples the process; <see langword="null"/> for one without a disk path, on <paramref name="timeProvider"/>.</param>
    /// <param name="sources">The host's own metrics; <see langword="null"/> for none.</param>
    /// <param name="sink">Where each report is sent; <see langword="null"/> to only keep <see cref="Latest"/>.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="options">The settings; <see langword="null"/> for PowerJob's.</param>
    /// <param name="logger">Where it logs.</param>
    /// <exception cref="ArgumentException"><paramref name="sources"/> holds a <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public HealthReporter(
        HashedWheelTimer timer,
        SystemMetricsCollector? collector = null,
        IEnumerable<IHealthMetricsSource>? sources = null,
        IHealthReportSink? sink = null,
        TimeProvider? timeProvider = null,
        HealthReporterOptions? options = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(timer);
        _sources = sources is null ? [] : [.. sources];
        if (Array.IndexOf(_sources, null) >= 0)
        {
            throw new ArgumentException("A health metrics source is null. Pass only sources that exist, or none.", nameof(sources));
        }

        _sourceNames = [.. _sources.Select(source => source.GetType().Name)];
        options ??= new HealthReporterOptions();
        options.Validate();
        ReportInterval = options.ReportInterval;
        _timer = timer;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _collector = collector ?? new SystemMetricsCollector(timeProvider: _timeProvider);
        _sink = sink;
        _logger = logger ?? NullLogger.Instance;
        _reportTask = new ReportTask(this);
        _epoch = _timeProvider.GetTimestamp();
        Incarnation = Guid.NewGuid();
    }

    /// <summary>Gets this reporter's incarnation, random for each instance, which every report carries.</summary>
    public Guid Incarnation { get; }

    /// <summary>Gets how often a report is produced.</summary>
    public TimeSpan ReportInterval { get; }

    /// <summary>Gets the latest report, or <see langword="null"/> before <see cref="Start"/>: the payload for heartbeats.</summary>
    public HealthReport? Latest => Volatile.Read(ref _latest);

    /// <summary>Gets how many reports were not sent because the previous send was still running.</summary>
    public long SendsSkipped => Interlocked.Read(ref _sendsSkipped);

    /// <summary>Gets how many sends failed.</summary>
    public long SendsFailed => Interlocked.Read(ref _sendsFailed);

    /// <summary>Gets how many times a metrics source threw.</summary>
    public long SourceFailures => Interlocked.Read(ref _sourceFailures);

    /// <summary>Gets how many custom metrics were skipped: values that are not finite, empty names and repeated names.</summary>
    public long MetricsRejected => Interlocked.Read(ref _metricsRejected);

    /// <summary>Produces the first report now, then one every <see cref="ReportInterval"/>.</summary>
    /// <exception cref="InvalidOperationException">It was already started, or disposed.</exception>
    public void Start()
    {
        long sequence;
        lock (_lock)
        {
            if (_started || _stopped)
            {
                ThrowStartedOrStopped();
            }

            _started = true;
            _nextDue = ElapsedTicks() + ReportInterval.Ticks;
            _next = _timer.NewTimeout(_reportTask, ReportInterval);
            sequence = ++_sequence;
        }

        LogStarted(_logger, Incarnation, ReportInterval);
        Produce(sequence);
    }

    /// <summary>
    /// Stops reporting: no report is published after this is called, and a send in flight is cancelled and waited for;
    /// a sink that ignores its token is abandoned rather than awaited, so this never hangs. A sink may dispose the
    /// reporter from inside its own send.
    /// </summary>
    /// <returns>A task that completes when no send is running.</returns>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "The send's failure was already logged and counted; dispose only waits for it to end.")]
    public async ValueTask DisposeAsync()
    {
        Task send;
        lock (_lock)
        {
            _stopped = true;
            _next.Cancel();
            send = _sendDone?.Task ?? Task.CompletedTask;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (!CallbackScope.IsInsideCallbackOf(this))
        {
            await send.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [DoesNotReturn]
    private static void ThrowStartedOrStopped() =>
        throw new InvalidOperationException("The health reporter was already started (or disposed); it runs once. Create another for a new incarnation.");

    private long ElapsedTicks() => _timeProvider.GetElapsedTime(_epoch).Ticks;

    private void OnReportDue(WheelTimeout fired)
    {
        long sequence;
        lock (_lock)
        {
            if (_stopped || fired != _next)
            {
                return;
            }

            _next = _timer.NewTimeout(_reportTask, FixedRate.Next(ref _nextDue, ReportInterval.Ticks, ElapsedTicks()));
            sequence = ++_sequence;
        }

        Produce(sequence);
    }

    /// <summary>
    /// Produces report <paramref name="sequence"/>, publishes it as <see cref="Latest"/> and sends it. The collection
    /// runs outside the lock (it reads the disk, and the sources are the host's code), one at a time under its own
    /// lock; publishing runs under the lock, so a report never replaces a newer one and none appears after dispose.
    /// </summary>
    private void Produce(long sequence)
    {
        HealthReport report;
        lock (_collectLock)
        {
            SystemMetrics metrics = _collector.Collect();
            IReadOnlyDictionary<string, double> custom = CollectCustom(sequence);
            report = new HealthReport(Incarnation, sequence, _timeProvider.GetElapsedTime(_epoch), metrics, custom);
        }

        lock (_lock)
        {
            if (_stopped || (_latest is { } latest && latest.Sequence > sequence))
            {
                return;
            }

            Volatile.Write(ref _latest, report);
            if (_sink is null)
            {
                return;
            }

            if (_sendDone is not null)
            {
                long skipped = Interlocked.Increment(ref _sendsSkipped);
                LogSendSkipped(_logger, sequence, skipped);
                return;
            }

            // Taken under the lock, with the slot: dispose then always sees the send it has to wait for.
            _sendDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        _ = SendAsync(report);
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A source is the host's code; its failure is logged and counted, and the report goes out without it.")]
    private ReadOnlyDictionary<string, double> CollectCustom(long sequence)
    {
        Dictionary<string, double>? merged = null;
        for (int i = 0; i < _sources.Length; i++)
        {
            // A fresh dictionary per source, so that a source that throws halfway leaves nothing behind.
            var given = new Dictionary<string, double>(StringComparer.Ordinal);
            try
            {
                _sources[i].Collect(given);
            }
            catch (Exception exception)
            {
                Interlocked.Increment(ref _sourceFailures);
                LogSourceFailed(_logger, _sourceNames[i], sequence, exception);
                continue;
            }

            int rejected = 0;
            foreach ((string name, double value) in given)
            {
                merged ??= new Dictionary<string, double>(StringComparer.Ordinal);
                if (string.IsNullOrWhiteSpace(name) || !double.IsFinite(value) || !merged.TryAdd(name, value))
                {
                    rejected++;
                }
            }

            if (rejected > 0)
            {
                Interlocked.Add(ref _metricsRejected, rejected);
                LogMetricsRejected(_logger, rejected, _sourceNames[i]);
            }
        }

        return merged is null || merged.Count == 0 ? ReadOnlyDictionary<string, double>.Empty : merged.AsReadOnly();
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed send is logged and counted; the next report is sent as usual.")]
    private async Task SendAsync(HealthReport report)
    {
        try
        {
            using (CallbackScope.Enter(this))
            {
                // WaitAsync, so that a sink that ignores its token is abandoned at dispose rather than awaited forever.
                await _sink!.SendAsync(report, _stopping.Token).AsTask().WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            long failures = Interlocked.Increment(ref _sendsFailed);
            LogSendFailed(_logger, report.Sequence, failures, exception);
        }
        finally
        {
            TaskCompletionSource? done;
            lock (_lock)
            {
                done = _sendDone;
                _sendDone = null;
            }

            done?.TrySetResult();
        }
    }

    // Event ids 5200–5299 belong to health reports. They never change once released.
    [LoggerMessage(EventId = 5200, EventName = "HealthSourceFailed", Level = LogLevel.Warning, Message = "The health metrics source '{Source}' threw; report {Sequence} goes out without its metrics.")]
    private static partial void LogSourceFailed(ILogger logger, string source, long sequence, Exception exception);

    [LoggerMessage(EventId = 5201, EventName = "HealthMetricsRejected", Level = LogLevel.Warning, Message = "Skipped {Count} metrics from '{Source}': a name must not be empty or repeat an earlier source's, and a value must be finite.")]
    private static partial void LogMetricsRejected(ILogger logger, int count, string source);

    [LoggerMessage(EventId = 5202, EventName = "HealthReportSendFailed", Level = LogLevel.Warning, Message = "Sending health report {Sequence} failed ({Failures} failures in all); the next report is sent as usual.")]
    private static partial void LogSendFailed(ILogger logger, long sequence, long failures, Exception exception);

    [LoggerMessage(EventId = 5203, EventName = "HealthReportSendSkipped", Level = LogLevel.Information, Message = "Health report {Sequence} was not sent: the previous send is still running ({Skipped} skipped in all).")]
    private static partial void LogSendSkipped(ILogger logger, long sequence, long skipped);

    [LoggerMessage(EventId = 5204, EventName = "HealthReporterStarted", Level = LogLevel.Information, Message = "Health reports started: incarnation '{Incarnation}', every {Interval}.")]
    private static partial void LogStarted(ILogger logger, Guid incarnation, TimeSpan interval);

    private sealed class ReportTask(HealthReporter owner) : ITimerTask
    {
        public void Run(WheelTimeout timeout) => owner.OnReportDue(timeout);
    }
}
