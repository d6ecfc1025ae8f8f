using RegistryKit.Reporting;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Reporting;

[CancelAfter(20_000)]
public class HealthReporterTests
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(10);

    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;
    private FakeSystemProbe _probe = null!;
    private RecordingSink _sink = null!;
    private CollectingLogger<HealthReporter> _logger = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _timer = new HashedWheelTimer(_time);
        _probe = new FakeSystemProbe();
        _sink = new RecordingSink();
        _logger = new CollectingLogger<HealthReporter>();
    }

    [TearDown]
    public void TearDown() => _timer.Dispose();

    [Test]
    public void Defaults_ArePowerJobs()
    {
        Assert.That(new HealthReporterOptions().ReportInterval, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(ReportingDefaults.ReportInterval, Is.EqualTo(TimeSpan.FromSeconds(10)));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void Options_ReportIntervalNotPositive_ThrowsNamingTheSetting(int seconds)
    {
        var options = new HealthReporterOptions { ReportInterval = TimeSpan.FromSeconds(seconds) };

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.That(exception!.ParamName, Is.EqualTo(nameof(HealthReporterOptions.ReportInterval)));
        Assert.That(exception.Message, Does.Contain("HealthReporterOptions.ReportInterval is").And.Contain("positive"));
    }

    [Test]
    public async Task Latest_BeforeStart_IsNull()
    {
        await using HealthReporter reporter = Create();

        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That(reporter.Latest, Is.Null);
        Assert.That(_sink.Reports, Is.Empty);
    }

    [Test]
    public async Task Start_ProducesTheFirstReportAtOnce_UptimeSinceCreation()
    {
        await using HealthReporter reporter = Create();
        _time.Advance(TimeSpan.FromSeconds(3));

        reporter.Start();

        Assert.That(reporter.Latest, Is.Not.Null);
        Assert.That(reporter.Latest!.Sequence, Is.EqualTo(1));
        Assert.That(reporter.Latest.Uptime, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(reporter.Latest.Incarnation, Is.EqualTo(reporter.Incarnation));
        Assert.That(_sink.Reports, Is.EqualTo(new[] { reporter.Latest }));
    }

    [Test]
    public async Task Reports_EveryInterval_SequenceCountsUpAndUptimeFollowsVirtualTime()
    {
        await using HealthReporter reporter = Create();
        reporter.Start();

        _time.Advance(TimeSpan.FromSeconds(35));

        Assert.That(_sink.Reports.Select(r => r.Sequence), Is.EqualTo(new long[] { 1, 2, 3, 4 }));
        Assert.That(_sink.Reports.Select(r => r.Uptime.TotalSeconds), Is.EqualTo(new double[] { 0, 10, 20, 30 }));
        Assert.That(_sink.Reports.Select(r => r.Incarnation).Distinct(), Is.EqualTo(new[] { reporter.Incarnation }));
        Assert.That(reporter.Latest, Is.SameAs(_sink.Reports[^1]));
    }

    [Test]
    public async Task Reports_OverManyPeriods_DoNotDrift()
    {
        // A 30 ms tick does not divide 10 s, so every report fires up to a tick late; a schedule that counted each
        // interval from the late firing would slip 20 ms a period, 2 s over a hundred periods.
        using var coarseTimer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(30) });
        await using var reporter = new HealthReporter(coarseTimer, new SystemMetricsCollector(_probe, null, _time), sink: _sink, timeProvider: _time);
        reporter.Start();

        for (int i = 0; i < 136; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(7.3));
        }

        IReadOnlyList<HealthReport> reports = _sink.Reports;
        Assert.That(reports, Has.Count.EqualTo(100), "992.8 s: the report at 0 s and one every 10 s");
        for (int k = 0; k < reports.Count; k++)
        {
            TimeSpan late = reports[k].Uptime - (k * s_interval);
            Assert.That(late, Is.InRange(TimeSpan.Zero, TimeSpan.FromMilliseconds(30)), $"report {k + 1}");
        }
    }

    [Test]
    public async Task Incarnation_IsRandomPerReporter()
    {
        await using HealthReporter first = Create();
        await using HealthReporter second = Create();

        Assert.That(first.Incarnation, Is.Not.EqualTo(second.Incarnation));
        Assert.That(first.Incarnation, Is.Not.EqualTo(Guid.Empty));
    }

    [Test]
    public async Task Report_CarriesTheMetricsAndTheirScore()
    {
        await using HealthReporter reporter = Create();
        reporter.Start();
        _probe.ProcessorTime += TimeSpan.FromSeconds(15);

        _time.Advance(s_interval);

        HealthReport first = _sink.Reports[0];
        HealthReport second = _sink.Reports[1];
        Assert.That(first.Metrics.CpuLoad, Is.EqualTo(SystemMetrics.UnknownCpuLoad));
        Assert.That(first.Score, Is.EqualTo(13), "8 GiB − 2 GiB, × 2, + 1 for the unknown load");
        Assert.That(second.Metrics.CpuLoad, Is.EqualTo(1.5));
        Assert.That(second.Metrics.MemoryLimitBytes, Is.EqualTo(8 * FakeSystemProbe.GiB));
        Assert.That(second.Score, Is.EqualTo(14), "(8 − 2) × 2 + (4 − 1.5)");
    }

    [Test]
    public async Task Send_OneAtATime_AReportDueDuringASendIsSkippedAndCounted()
    {
        var gate = new TaskCompletionSource();
        _sink.Gate = gate.Task;
        await using HealthReporter reporter = Create();
        reporter.Start();

        _time.Advance(s_interval);
        Assert.That(_sink.Reports.Select(r => r.Sequence), Is.EqualTo(new long[] { 1 }), "report 2 came while report 1 was being sent");
        Assert.That(reporter.SendsSkipped, Is.EqualTo(1));
        Assert.That(reporter.Latest!.Sequence, Is.EqualTo(2), "a skipped report is still the latest");
        Assert.That(_sink.MaxInFlight, Is.EqualTo(1));

        gate.SetResult();
        _time.Advance(s_interval);
        Assert.That(_sink.Reports.Select(r => r.Sequence), Is.EqualTo(new long[] { 1, 3 }));
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5203), Is.EqualTo(1));
    }

    [Test]
    public async Task Send_Failure_IsLoggedAndCounted_ReportsGoOn()
    {
        _sink.FailNext = new IOException("server down");
        await using HealthReporter reporter = Create();

        Assert.DoesNotThrow(reporter.Start);
        _time.Advance(s_interval);

        Assert.That(reporter.SendsFailed, Is.EqualTo(1));
        Assert.That(_logger.Entries.Single(e => e.EventId.Id == 5202).Exception, Is.InstanceOf<IOException>());
        Assert.That(_sink.Reports.Select(r => r.Sequence), Is.EqualTo(new long[] { 2 }));
    }

    [Test]
    public async Task Source_Throwing_IsLoggedAndCounted_TheReportGoesOutWithoutItsMetrics()
    {
        var broken = new DelegateSource(metrics =>
        {
            metrics["half.written"] = 1;
            throw new InvalidOperationException("source bug");
        });
        var healthy = new DelegateSource(metrics => metrics["queue.depth"] = 3);
        await using HealthReporter reporter = Create(sources: [broken, healthy]);

        reporter.Start();

        Assert.That(reporter.Latest!.CustomMetrics, Is.EqualTo(new Dictionary<string, double> { ["queue.depth"] = 3 }));
        Assert.That(reporter.SourceFailures, Is.EqualTo(1));
        Assert.That(_logger.Entries.Single(e => e.EventId.Id == 5200).Message, Does.Contain(nameof(DelegateSource)));
        Assert.That(_sink.Reports, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Source_MalformedValues_AreSkippedAndCounted()
    {
        var first = new DelegateSource(metrics =>
        {
            metrics["ok"] = 1.5;
            metrics["nan"] = double.NaN;
            metrics["infinite"] = double.PositiveInfinity;
            metrics["negative.infinite"] = double.NegativeInfinity;
            metrics[""] = 2;
            metrics["  "] = 3;
        });
        var second = new DelegateSource(metrics =>
        {
            metrics["ok"] = 99;
            metrics["also.ok"] = -4;
        });
        await using HealthReporter reporter = Create(sources: [first, second]);

        reporter.Start();

        Assert.That(reporter.Latest!.CustomMetrics, Is.EqualTo(new Dictionary<string, double> { ["ok"] = 1.5, ["also.ok"] = -4 }));
        Assert.That(reporter.MetricsRejected, Is.EqualTo(6), "NaN, two infinities, two blank names, and a name the first source gave");
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5201), Is.EqualTo(2));
    }

    [Test]
    public async Task Start_Twice_Throws()
    {
        await using HealthReporter reporter = Create();
        reporter.Start();

        var exception = Assert.Throws<InvalidOperationException>(reporter.Start);

        Assert.That(exception!.Message, Does.Contain("already started"));
    }

    [Test]
    public async Task DisposeAsync_CancelsTheSchedule_NothingIsProducedAfterwards()
    {
        HealthReporter reporter = Create();
        reporter.Start();
        _time.Advance(s_interval);

        await reporter.DisposeAsync();
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(_timer.PendingTimeouts, Is.Zero);
        Assert.That(reporter.Latest!.Sequence, Is.EqualTo(2));
        Assert.That(_sink.Reports, Has.Count.EqualTo(2));
        Assert.Throws<InvalidOperationException>(reporter.Start);
    }

    [Test]
    public async Task DisposeAsync_CancelsASendInFlight()
    {
        _sink.Gate = Task.Delay(Timeout.Infinite, TestContext.CurrentContext.CancellationToken);
        HealthReporter reporter = Create();
        reporter.Start();
        CancellationToken sendToken = _sink.Tokens.Single();
        Assert.That(sendToken.IsCancellationRequested, Is.False);

        await reporter.DisposeAsync();

        Assert.That(sendToken.IsCancellationRequested, Is.True);
    }

    [Test]
    public async Task DisposeAsync_AbandonsASinkThatIgnoresItsToken()
    {
        var never = new TaskCompletionSource();
        HealthReporter reporter = Create(sink: new DelegateSink(async (_, _) => await never.Task));
        reporter.Start();

        await reporter.DisposeAsync().AsTask().WaitAsync(TestContext.CurrentContext.CancellationToken);

        Assert.That(never.Task.IsCompleted, Is.False, "dispose returned although the sink ignores its token");
        Assert.That(reporter.SendsFailed, Is.Zero, "an abandoned send at dispose is not a failure");
    }

    [Test]
    public async Task DisposeAsync_FromInsideTheSink_DoesNotDeadlock()
    {
        HealthReporter? reporter = null;
        reporter = Create(sink: new DelegateSink(async (_, _) => await reporter!.DisposeAsync()));

        reporter.Start();
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That(_timer.PendingTimeouts, Is.Zero);
        Assert.That(reporter.Latest!.Sequence, Is.EqualTo(1), "disposed by its first send");
    }

    private HealthReporter Create(IHealthMetricsSource[]? sources = null, IHealthReportSink? sink = null) =>
        new(_timer, new SystemMetricsCollector(_probe, null, _time), sources, sink ?? _sink, _time, new HealthReporterOptions { ReportInterval = s_interval }, _logger);

    private sealed class DelegateSource(Action<IDictionary<string, double>> collect) : IHealthMetricsSource
    {
        public void Collect(IDictionary<string, double> metrics) => collect(metrics);
    }

    private sealed class DelegateSink(Func<HealthReport, CancellationToken, Task> send) : IHealthReportSink
    {
        public async ValueTask SendAsync(HealthReport report, CancellationToken cancellationToken) => await send(report, cancellationToken);
    }

    private sealed class RecordingSink : IHealthReportSink
    {
        private readonly Lock _lock = new();
        private readonly List<HealthReport> _reports = [];
        private int _inFlight;

        /// <summary>What every send waits for before it completes; <see langword="null"/> to complete at once.</summary>
        public Task? Gate { get; set; }

        public Exception? FailNext { get; set; }

        public List<CancellationToken> Tokens { get; } = [];

        public int MaxInFlight { get; private set; }

        public IReadOnlyList<HealthReport> Reports
        {
            get
            {
                lock (_lock)
                {
                    return [.. _reports];
                }
            }
        }

        public async ValueTask SendAsync(HealthReport report, CancellationToken cancellationToken)
        {
            if (FailNext is { } failure)
            {
                FailNext = null;
                throw failure;
            }

            lock (_lock)
            {
                _reports.Add(report);
                Tokens.Add(cancellationToken);
                MaxInFlight = Math.Max(MaxInFlight, ++_inFlight);
            }

            try
            {
                if (Gate is not null)
                {
                    await Gate.WaitAsync(cancellationToken);
                }
            }
            finally
            {
                lock (_lock)
                {
                    _inFlight--;
                }
            }
        }
    }
}
