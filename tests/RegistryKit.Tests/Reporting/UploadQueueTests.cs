using RegistryKit.Reporting;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Reporting;

[CancelAfter(20_000)]
public class UploadQueueTests
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(10);

    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;
    private FakeUploader _uploader = null!;
    private CollectingLogger<UploadQueue<int>> _logger = null!;
    private List<UploadQueue<int>> _queues = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(10) });
        _uploader = new FakeUploader();
        _logger = new CollectingLogger<UploadQueue<int>>();
        _queues = [];
    }

    [TearDown]
    public async Task TearDown()
    {
        // Every queue is disposed, its final flush bounded in virtual time, so that a broken queue fails its test
        // rather than hanging the run.
        foreach (UploadQueue<int> queue in _queues)
        {
            Task disposing = queue.DisposeAsync().AsTask();
            _time.Advance(ReportingDefaults.MaxFinalFlushTimeout);
            await Bounded(disposing);
        }

        _timer.Dispose();
    }

    [Test]
    public void Defaults_ArePowerJobs()
    {
        var options = new UploadQueueOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.Capacity, Is.EqualTo(10_240).And.EqualTo(ReportingDefaults.QueueCapacity));
            Assert.That(options.FlushInterval, Is.EqualTo(TimeSpan.FromSeconds(5)).And.EqualTo(ReportingDefaults.FlushInterval));
            Assert.That(options.FlushThreshold, Is.EqualTo(1_024).And.EqualTo(ReportingDefaults.FlushThreshold));
            Assert.That(options.BatchSize, Is.EqualTo(20).And.EqualTo(ReportingDefaults.BatchSize));
            Assert.That(options.FinalFlushTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)).And.EqualTo(ReportingDefaults.FinalFlushTimeout));
            Assert.That(ReportingDefaults.MaxFinalFlushTimeout, Is.EqualTo(TimeSpan.FromHours(1)));
        });
    }

    [TestCase(nameof(UploadQueueOptions.Capacity), 0, "positive")]
    [TestCase(nameof(UploadQueueOptions.FlushInterval), 0, "positive")]
    [TestCase(nameof(UploadQueueOptions.FlushThreshold), -1, "from 0 to Capacity")]
    [TestCase(nameof(UploadQueueOptions.FlushThreshold), 10_241, "from 0 to Capacity")]
    [TestCase(nameof(UploadQueueOptions.BatchSize), 0, "positive")]
    [TestCase(nameof(UploadQueueOptions.FinalFlushTimeout), -1, "from zero to one hour")]
    [TestCase(nameof(UploadQueueOptions.FinalFlushTimeout), 3601, "from zero to one hour")]
    public void Options_OutOfRange_ThrowNamingTheSetting(string setting, int value, string rule)
    {
        var options = new UploadQueueOptions();
        switch (setting)
        {
            case nameof(UploadQueueOptions.Capacity): options.Capacity = value; break;
            case nameof(UploadQueueOptions.FlushInterval): options.FlushInterval = TimeSpan.FromSeconds(value); break;
            case nameof(UploadQueueOptions.FlushThreshold): options.FlushThreshold = value; break;
            case nameof(UploadQueueOptions.BatchSize): options.BatchSize = value; break;
            default: options.FinalFlushTimeout = TimeSpan.FromSeconds(value); break;
        }

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.That(exception!.ParamName, Is.EqualTo(setting));
        Assert.That(exception.Message, Does.Contain($"UploadQueueOptions.{setting} is").And.Contain(rule));
    }

    [Test]
    public void Options_ThresholdEqualToCapacity_IsValid()
    {
        var options = new UploadQueueOptions { Capacity = 10, FlushThreshold = 10 };

        Assert.DoesNotThrow(options.Validate);
    }

    [Test]
    public void Flush_EveryInterval_UploadsWhatIsQueued()
    {
        UploadQueue<int> queue = Create();
        EnqueueRange(queue, 1, 3);

        _time.Advance(s_interval - s_tick);
        Assert.That(_uploader.Calls, Is.Empty, "not before the interval");
        _time.Advance(s_tick);
        EnqueueRange(queue, 4, 2);
        _time.Advance(s_interval);

        Assert.That(_uploader.Calls, Is.EqualTo(new[] { new[] { 1, 2, 3 }, new[] { 4, 5 } }));
        Assert.That(queue.Uploaded, Is.EqualTo(5));
        Assert.That(queue.Pending, Is.Zero);
    }

    [Test]
    public void Flush_PastTheThreshold_StartsWithinATick()
    {
        UploadQueue<int> queue = Create(new UploadQueueOptions { FlushThreshold = 3 });
        EnqueueRange(queue, 1, 3);

        _time.Advance(s_tick);
        Assert.That(_uploader.Calls, Is.Empty, "3 queued is not past a threshold of 3");
        queue.Enqueue(4);
        _time.Advance(s_tick);

        Assert.That(_uploader.Calls, Is.EqualTo(new[] { new[] { 1, 2, 3, 4 } }));
    }

    [Test]
    public void Flush_PastTheThreshold_NeverRunsTheUploaderOnTheCaller()
    {
        UploadQueue<int> queue = Create(new UploadQueueOptions { FlushThreshold = 0 });

        queue.Enqueue(1);

        Assert.That(_uploader.Calls, Is.Empty, "the early flush runs on the timer, not inside Enqueue");
    }

    [Test]
    public void Flush_UploadsBatchesOfBatchSize_OldestFirst()
    {
        UploadQueue<int> queue = Create(new UploadQueueOptions { BatchSize = 4 });
        EnqueueRange(queue, 1, 10);

        _time.Advance(s_interval);

        Assert.That(_uploader.Calls, Is.EqualTo(new[] { new[] { 1, 2, 3, 4 }, new[] { 5, 6, 7, 8 }, new[] { 9, 10 } }));
    }

    [Test]
    public async Task Flush_OneAtATime_TriggersDuringAFlushAreAbsorbed()
    {
        var gate = new TaskCompletionSource();
        _uploader.Gate = gate.Task;
        UploadQueue<int> queue = Create(new UploadQueueOptions { FlushThreshold = 5, Capacity = 100 });
        EnqueueRange(queue, 1, 3);
        _time.Advance(s_interval);
        Assert.That(_uploader.Calls, Has.Count.EqualTo(1));

        EnqueueRange(queue, 4, 10);
        _time.Advance(s_tick);
        _time.Advance(s_interval);
        Assert.That(_uploader.Calls, Has.Count.EqualTo(1), "neither the threshold nor the interval started a second flush");

        gate.SetResult();
        await _uploader.WaitForCallsAsync(2);
        Assert.That(_uploader.Calls[1], Is.EqualTo(Enumerable.Range(4, 10)), "the running flush went on until the queue was empty");
        Assert.That(_uploader.MaxInFlight, Is.EqualTo(1));
    }

    [Test]
    public void Overflow_DropsTheOldest_CountsExactly()
    {
        UploadQueue<int> queue = Create(new UploadQueueOptions { Capacity = 10, FlushThreshold = 10 });

        EnqueueRange(queue, 1, 15);

        Assert.That(queue.Dropped, Is.EqualTo(5));
        Assert.That(queue.Enqueued, Is.EqualTo(15));
        Assert.That(queue.Pending, Is.EqualTo(10));
        _time.Advance(s_interval);
        Assert.That(_uploader.Delivered, Is.EqualTo(Enumerable.Range(6, 10)), "items 1 to 5, the oldest, were dropped");
    }

    [Test]
    public void Overflow_FirstDropLoggedAtOnce_ThenOneCountPerFlush()
    {
        UploadQueue<int> queue = Create(new UploadQueueOptions { Capacity = 10, FlushThreshold = 10 });

        EnqueueRange(queue, 1, 15);
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5300), Is.EqualTo(1), "one line, not one per item");
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5301), Is.Zero);
        _time.Advance(s_interval);
        EnqueueRange(queue, 16, 12);
        _time.Advance(s_interval);

        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5300), Is.EqualTo(1));
        string[] counts = [.. _logger.Entries.Where(e => e.EventId.Id == 5301).Select(e => e.Message)];
        Assert.That(counts, Has.Length.EqualTo(2));
        Assert.That(counts[0], Does.StartWith("5 of the oldest").And.Contain("(5 in all)"));
        Assert.That(counts[1], Does.StartWith("2 of the oldest").And.Contain("(7 in all)"));
    }

    [Test]
    public void NoServer_KeepsTheQueue_PowerJob()
    {
        // PowerJob clears its log queue when it has no server to send to.
        _uploader.Outcome = UploadOutcome.NoServer;
        UploadQueue<int> queue = Create();
        EnqueueRange(queue, 1, 30);

        _time.Advance(s_interval);
        _time.Advance(s_interval);

        Assert.That(queue.Pending, Is.EqualTo(30));
        Assert.That(queue.Uploaded, Is.Zero);
        Assert.That(queue.FailedFlushes, Is.EqualTo(2));
        Assert.That(_uploader.Calls, Is.EqualTo(new[] { Enumerable.Range(1, 20), Enumerable.Range(1, 20) }), "each flush stopped at the first batch, and retried it first");
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5302), Is.EqualTo(2));
    }

    [Test]
    public void NoServer_ThenAServer_DeliversEverythingInOrder()
    {
        _uploader.Outcome = UploadOutcome.NoServer;
        UploadQueue<int> queue = Create(new UploadQueueOptions { BatchSize = 7 });
        EnqueueRange(queue, 1, 10);
        _time.Advance(s_interval);
        EnqueueRange(queue, 11, 10);
        _time.Advance(s_interval);

        _uploader.Outcome = UploadOutcome.Uploaded;
        _time.Advance(s_interval);

        Assert.That(_uploader.Delivered, Is.EqualTo(Enumerable.Range(1, 20)));
        Assert.That(queue.Uploaded, Is.EqualTo(20));
        Assert.That(queue.Pending, Is.Zero);
    }

    [Test]
    public void UploadThrows_KeepsTheBatch_LogsAndCounts()
    {
        _uploader.FailNext = new HttpRequestException("connection reset");
        UploadQueue<int> queue = Create();
        EnqueueRange(queue, 1, 3);

        _time.Advance(s_interval);
        Assert.That(queue.FailedFlushes, Is.EqualTo(1));
        Assert.That(queue.Pending, Is.EqualTo(3));
        Assert.That(_logger.Entries.Single(e => e.EventId.Id == 5303).Exception, Is.InstanceOf<HttpRequestException>());
        _time.Advance(s_interval);

        Assert.That(_uploader.Delivered, Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void NoServer_EarlyFlushesWaitForTheInterval_UntilAnUploadSucceeds()
    {
        _uploader.Outcome = UploadOutcome.NoServer;
        UploadQueue<int> queue = Create(new UploadQueueOptions { FlushThreshold = 2 });
        EnqueueRange(queue, 1, 3);
        _time.Advance(s_tick);
        Assert.That(_uploader.Calls, Has.Count.EqualTo(1));

        for (int i = 4; i <= 8; i++)
        {
            queue.Enqueue(i);
            _time.Advance(s_tick);
        }

        Assert.That(_uploader.Calls, Has.Count.EqualTo(1), "a missing server is not asked again at every enqueue");
        _uploader.Outcome = UploadOutcome.Uploaded;
        _time.Advance(s_interval - (6 * s_tick));
        Assert.That(_uploader.Calls.Skip(1), Is.EqualTo(new[] { new[] { 1, 2, 3 }, new[] { 4, 5, 6, 7, 8 } }), "the interval flush retried the kept batch, then the rest");
        EnqueueRange(queue, 9, 3);
        _time.Advance(s_tick);
        Assert.That(_uploader.Delivered, Is.EqualTo(Enumerable.Range(1, 11)), "with the server back, early flushes run again");
    }

    [Test]
    public void Bound_IsCapacityPlusTheBatchKeptForRetry()
    {
        _uploader.Outcome = UploadOutcome.NoServer;
        UploadQueue<int> queue = Create(new UploadQueueOptions { Capacity = 10, FlushThreshold = 10, BatchSize = 4 });
        EnqueueRange(queue, 1, 4);
        _time.Advance(s_interval);

        EnqueueRange(queue, 5, 20);
        Assert.That(queue.Pending, Is.EqualTo(14));
        Assert.That(queue.Dropped, Is.EqualTo(10));
        _uploader.Outcome = UploadOutcome.Uploaded;
        _time.Advance(s_interval);

        Assert.That(_uploader.Delivered, Is.EqualTo(new[] { 1, 2, 3, 4 }.Concat(Enumerable.Range(15, 10))));
    }

    [Test]
    public async Task DisposeAsync_FlushesWhatIsLeft_StopsTheTimer()
    {
        UploadQueue<int> queue = Create();
        EnqueueRange(queue, 1, 5);

        await Bounded(queue.DisposeAsync().AsTask());

        Assert.That(_uploader.Delivered, Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));
        Assert.That(queue.DroppedAtDispose, Is.Zero);
        Assert.That(_timer.PendingTimeouts, Is.Zero);
        Assert.That(_logger.Entries.Where(e => e.EventId.Id is 5304 or 5305), Is.Empty);
    }

    [Test]
    public async Task Enqueue_AfterDispose_ReturnsFalse()
    {
        UploadQueue<int> queue = Create();
        await Bounded(queue.DisposeAsync().AsTask());

        bool queued = queue.Enqueue(1);

        Assert.That(queued, Is.False);
        Assert.That(queue.Enqueued, Is.Zero);
        Assert.That(queue.Pending, Is.Zero);
    }

    [Test]
    public async Task DisposeAsync_UploaderHangs_FinalFlushEndsAtTheTimeout_LeftoverCounted()
    {
        _uploader.Gate = new TaskCompletionSource().Task;
        _uploader.IgnoreCancellation = true;
        UploadQueue<int> queue = Create();
        EnqueueRange(queue, 1, 30);

        Task disposing = queue.DisposeAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(5) - s_tick);
        Assert.That(disposing.IsCompleted, Is.False, "it waits for the final flush up to the timeout");
        _time.Advance(s_tick);
        await Bounded(disposing);

        Assert.That(queue.DroppedAtDispose, Is.EqualTo(30), "the batch in the hung upload and the ten behind it");
        Assert.That(queue.Pending, Is.Zero);
        Assert.That(queue.Enqueued, Is.EqualTo(queue.Uploaded + queue.Dropped + queue.DroppedAtDispose + queue.Pending));
        Assert.That(_uploader.Tokens.Single().IsCancellationRequested, Is.True, "the uploader was told to stop");
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5304), Is.EqualTo(1));
        Assert.That(_logger.Entries.Single(e => e.EventId.Id == 5305).Message, Does.StartWith("30 items"));
    }

    [Test]
    public async Task DisposeAsync_ZeroFinalFlushTimeout_SkipsTheFlush_CountsWhatIsLeft()
    {
        UploadQueue<int> queue = Create(new UploadQueueOptions { FinalFlushTimeout = TimeSpan.Zero });
        EnqueueRange(queue, 1, 4);

        await Bounded(queue.DisposeAsync().AsTask());

        Assert.That(_uploader.Calls, Is.Empty);
        Assert.That(queue.DroppedAtDispose, Is.EqualTo(4));
        Assert.That(_logger.Entries.Single(e => e.EventId.Id == 5305).Message, Does.StartWith("4 items"));
    }

    [Test]
    public async Task DisposeAsync_WaitsForARunningFlush_ThenFlushesTheRest()
    {
        var gate = new TaskCompletionSource();
        _uploader.Gate = gate.Task;
        UploadQueue<int> queue = Create(new UploadQueueOptions { BatchSize = 2 });
        EnqueueRange(queue, 1, 2);
        _time.Advance(s_interval);
        EnqueueRange(queue, 3, 3);

        Task disposing = queue.DisposeAsync().AsTask();
        Assert.That(_uploader.Calls, Has.Count.EqualTo(1), "no second flush while the first runs");
        gate.SetResult();
        await Bounded(disposing);

        Assert.That(_uploader.Delivered, Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));
        Assert.That(_uploader.MaxInFlight, Is.EqualTo(1));
        Assert.That(queue.DroppedAtDispose, Is.Zero);
    }

    private static Task Bounded(Task task) => task.WaitAsync(TestContext.CurrentContext.CancellationToken);

    private UploadQueue<int> Create(UploadQueueOptions? options = null)
    {
        var queue = new UploadQueue<int>(_uploader, _timer, _time, options, _logger);
        _queues.Add(queue);
        return queue;
    }

    private static void EnqueueRange(UploadQueue<int> queue, int start, int count)
    {
        foreach (int item in Enumerable.Range(start, count))
        {
            Assert.That(queue.Enqueue(item), Is.True);
        }
    }

    private sealed class FakeUploader : IBatchUploader<int>
    {
        private readonly Lock _lock = new();
        private readonly List<int[]> _calls = [];
        private readonly List<int> _delivered = [];
        private readonly CallCounter _counter = new();
        private int _inFlight;

        public UploadOutcome Outcome { get; set; } = UploadOutcome.Uploaded;

        public Exception? FailNext { get; set; }

        /// <summary>What every upload waits for before it answers; <see langword="null"/> to answer at once.</summary>
        public Task? Gate { get; set; }

        public bool IgnoreCancellation { get; set; }

        public List<CancellationToken> Tokens { get; } = [];

        public int MaxInFlight { get; private set; }

        public IReadOnlyList<int[]> Calls
        {
            get
            {
                lock (_lock)
                {
                    return [.. _calls];
                }
            }
        }

        public IReadOnlyList<int> Delivered
        {
            get
            {
                lock (_lock)
                {
                    return [.. _delivered];
                }
            }
        }

        public Task WaitForCallsAsync(int count) => _counter.WaitForAsync(count);

        public async ValueTask<UploadOutcome> UploadAsync(IReadOnlyList<int> batch, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                _calls.Add([.. batch]);
                Tokens.Add(cancellationToken);
                MaxInFlight = Math.Max(MaxInFlight, ++_inFlight);
            }

            _counter.Increment();

            try
            {
                if (Gate is not null)
                {
                    await (IgnoreCancellation ? Gate : Gate.WaitAsync(cancellationToken));
                }

                if (FailNext is { } failure)
                {
                    FailNext = null;
                    throw failure;
                }

                if (Outcome == UploadOutcome.Uploaded)
                {
                    lock (_lock)
                    {
                        _delivered.AddRange(batch);
                    }
                }

                return Outcome;
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
