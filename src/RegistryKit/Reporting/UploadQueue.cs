using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Timers;

namespace RegistryKit.Reporting;

/// <summary>
/// A bounded queue of items (health reports, log lines) that a background flush uploads in batches, as PowerJob's
/// worker uploads its logs, but without losing the queue when there is no server and without losing count of what
/// it drops.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="Enqueue"/> never blocks and never runs the uploader. When the queue is full the oldest item is
/// dropped to make room, counted in <see cref="Dropped"/> and logged: the first drop at once, then at each flush the
/// number dropped since the previous one.</item>
/// <item>A flush runs every <see cref="UploadQueueOptions.FlushInterval"/> at a fixed rate, and within one tick of the
/// timer when an item is added while more than <see cref="UploadQueueOptions.FlushThreshold"/> are queued. One flush
/// runs at a time; a trigger during a flush is absorbed, as that flush goes on until the queue is empty.</item>
/// <item>A flush uploads batches of <see cref="UploadQueueOptions.BatchSize"/>, oldest first. When the uploader answers
/// <see cref="UploadOutcome.NoServer"/> or throws, the flush stops and the batch is kept, to be uploaded first by the next
/// flush: the queue is never cleared for want of a server (PowerJob clears it). Until an upload succeeds again only
/// the interval flush retries, so a missing server is not asked at every enqueue.</item>
/// <item>The queue holds at most <see cref="UploadQueueOptions.Capacity"/> items plus the one batch being uploaded or
/// kept for retry.</item>
/// <item><see cref="DisposeAsync"/> stops the timer and runs a final flush bounded by
/// <see cref="UploadQueueOptions.FinalFlushTimeout"/>; what is left after it is counted in <see cref="DroppedAtDispose"/>
/// and logged.</item>
/// </list>
/// </remarks>
/// <typeparam name="T">The items.</typeparam>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It is a queue, the one the issue and PowerJob name; the rule reserves the suffix for collection types.")]
public sealed partial class UploadQueue<T> : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Channel<T> _channel;
    private readonly IBatchUploader<T> _uploader;
    private readonly HashedWheelTimer _timer;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TimeSpan _flushInterval;
    private readonly int _flushThreshold;
    private readonly int _batchSize;
    private readonly TimeSpan _finalFlushTimeout;
    private readonly List<T> _buffer = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly IntervalTask _intervalTask;
    private readonly EarlyTask _earlyTask;
    private readonly long _epoch;
    private long _nextDue;
    private WheelTimeout _interval;
    private WheelTimeout _early;
    private bool _earlyScheduled;
    private bool _serverDown;
    private bool _disposed;
    private bool _closed;
    private TaskCompletionSource? _flushing;
    private T[]? _held;
    private long _enqueued;
    private long _uploaded;
    private long _dropped;
    private long _droppedSinceLogged;
    private long _droppedAtDispose;
    private long _failedFlushes;
    private int _firstDropLogged;

    /// <summary>Creates the queue and starts its interval flush.</summary>
    /// <param name="uploader">Uploads the batches.</param>
    /// <param name="timer">The shared wheel the flushes are scheduled on.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="options">The settings; <see langword="null"/> for PowerJob's.</param>
    /// <param name="logger">Where it logs.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public UploadQueue(
        IBatchUploader<T> uploader,
        HashedWheelTimer timer,
        TimeProvider? timeProvider = null,
        UploadQueueOptions? options = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(uploader);
        ArgumentNullException.ThrowIfNull(timer);
        options ??= new UploadQueueOptions();
        options.Validate();
        Capacity = options.Capacity;
        _flushInterval = options.FlushInterval;
        _flushThreshold = options.FlushThreshold;
        _batchSize = options.BatchSize;
        _finalFlushTimeout = options.FinalFlushTimeout;
        _uploader = uploader;
        _timer = timer;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _intervalTask = new IntervalTask(this);
        _earlyTask = new EarlyTask(this);
        _channel = Channel.CreateBounded<T>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            OnItemDropped);
        _epoch = _timeProvider.GetTimestamp();
        lock (_lock)
        {
            // Under the lock, so that a first firing cannot miss the handle it checks against.
            _nextDue = _flushInterval.Ticks;
            _interval = _timer.NewTimeout(_intervalTask, _flushInterval);
        }
    }

    /// <summary>Gets how many items the queue holds before it drops the oldest.</summary>
    public int Capacity { get; }

    /// <summary>Gets how many items were accepted by <see cref="Enqueue"/>.</summary>
    public long Enqueued => Interlocked.Read(ref _enqueued);

    /// <summary>Gets how many items the server took.</summary>
    public long Uploaded => Interlocked.Read(ref _uploaded);

    /// <summary>Gets how many of the oldest items were dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Gets how many items were still queued when the final flush ended, and so were dropped.</summary>
    public long DroppedAtDispose => Interlocked.Read(ref _droppedAtDispose);

    /// <summary>Gets how many flushes stopped early because there was no server or the upload failed.</summary>
    public long FailedFlushes => Interlocked.Read(ref _failedFlushes);

    /// <summary>
    /// Gets how many items wait to be uploaded, the batch being uploaded included. <see cref="Enqueued"/> equals
    /// <see cref="Uploaded"/> + <see cref="Dropped"/> + <see cref="DroppedAtDispose"/> + <see cref="Pending"/> whenever
    /// no call is half-way.
    /// </summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _channel.Reader.Count + (_held?.Length ?? 0);
            }
        }
    }

    /// <summary>Adds an item; when the queue is full, the oldest item is dropped (and counted) to make room. Never blocks.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="true"/> when the item was queued; <see langword="false"/> once the queue is disposed (nothing is queued then).</returns>
    public bool Enqueue(T item)
    {
        if (!_channel.Writer.TryWrite(item))
        {
            return false;
        }

        Interlocked.Increment(ref _enqueued);
        if (_channel.Reader.Count > _flushThreshold)
        {
            RequestEarlyFlush();
        }

        return true;
    }

    /// <summary>
    /// Stops the flushes and runs a final one, waiting for it (and for a flush already running) at most
    /// <see cref="UploadQueueOptions.FinalFlushTimeout"/>; then the uploader's token is cancelled. Items left are counted
    /// in <see cref="DroppedAtDispose"/> and logged, also when an uploader that ignores its token delivers them later.
    /// </summary>
    /// <returns>A task that completes when the final flush ended or ran out of time.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _interval.Cancel();
            _early.Cancel();
        }

        _channel.Writer.TryComplete();
        if (_finalFlushTimeout > TimeSpan.Zero)
        {
            using var deadline = new CancellationTokenSource(_finalFlushTimeout, _timeProvider);
            using CancellationTokenRegistration stop = deadline.Token.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _stopping);

            // Yielding, so that this method never goes on inside the deadline's own cancellation callbacks.
            await FinalFlushAsync().WaitAsync(deadline.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ForceYielding);
            if (deadline.IsCancellationRequested)
            {
                Log.FinalFlushTimedOut(_logger, _finalFlushTimeout);
            }
        }

        _stopping.Cancel();
        int left = CloseAndCountLeftovers();
        LogDropsSinceLastFlush();
        if (left > 0)
        {
            Log.DroppedAtDispose(_logger, left);
        }
    }

    private void OnItemDropped(T item)
    {
        Interlocked.Increment(ref _dropped);
        Interlocked.Increment(ref _droppedSinceLogged);
        if (Interlocked.Exchange(ref _firstDropLogged, 1) == 0)
        {
            Log.QueueFull(_logger, Capacity);
        }
    }

    private void LogDropsSinceLastFlush()
    {
        long count = Interlocked.Exchange(ref _droppedSinceLogged, 0);
        if (count > 0)
        {
            Log.Dropped(_logger, count, Dropped);
        }
    }

    /// <summary>An enqueue found more than the threshold queued: flush at the next tick, on the timer, not on the caller.</summary>
    private void RequestEarlyFlush()
    {
        lock (_lock)
        {
            // A running flush empties the queue anyway; while the server is down, only the interval retries.
            if (_disposed || _earlyScheduled || _flushing is not null || _serverDown)
            {
                return;
            }

            try
            {
                _early = _timer.NewTimeout(_earlyTask, TimeSpan.Zero);
                _earlyScheduled = true;
            }
            catch (Exception exception) when (exception is ObjectDisposedException or TimeoutRejectedException)
            {
                Log.EarlyFlushNotScheduled(_logger, exception);
            }
        }
    }

    private void OnEarlyDue()
    {
        lock (_lock)
        {
            _earlyScheduled = false;
        }

        StartFlush();
    }

    private void OnIntervalDue(WheelTimeout fired)
    {
        lock (_lock)
        {
            if (_disposed || fired != _interval)
            {
                return;
            }

            _interval = _timer.NewTimeout(_intervalTask, FixedRate.Next(ref _nextDue, _flushInterval.Ticks, _timeProvider.GetElapsedTime(_epoch).Ticks));
        }

        StartFlush();
    }

    private void StartFlush()
    {
        TaskCompletionSource flushing;
        lock (_lock)
        {
            if (_disposed || _flushing is not null)
            {
                return;
            }

            flushing = _flushing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        _ = FlushAsync(flushing);
    }

    /// <summary>Waits for a flush already running, then flushes once more: everything queued before the writer closed.</summary>
    private async Task FinalFlushAsync()
    {
        while (true)
        {
            TaskCompletionSource? running;
            TaskCompletionSource? mine = null;
            lock (_lock)
            {
                running = _flushing;
                if (running is null)
                {
                    mine = _flushing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            if (mine is not null)
            {
                await FlushAsync(mine).ConfigureAwait(false);
                return;
            }

            await running!.Task.ConfigureAwait(false);
        }
    }

    /// <summary>One flush: holds the flush slot (<paramref name="flushing"/>) until it ends, then frees it.</summary>
    private async Task FlushAsync(TaskCompletionSource flushing)
    {
        bool emptied = false;
        try
        {
            LogDropsSinceLastFlush();
            emptied = await DrainAsync(_stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _flushing = null;
            }

            flushing.SetResult();
        }

        // Items added after the last batch was taken but before the slot was freed found the flush running.
        if (emptied && _channel.Reader.Count > _flushThreshold)
        {
            RequestEarlyFlush();
        }
    }

    /// <summary>Uploads batch after batch, the kept one first, until the queue is empty (<see langword="true"/>) or an upload does not succeed.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A failed upload keeps its batch for the next flush; it is logged and counted.")]
    private async Task<bool> DrainAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // After the final flush ran out of time no new batch is started: the uploader would only see a cancelled token.
            if (cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            T[]? batch;
            lock (_lock)
            {
                batch = _held ??= TakeBatchLocked();
            }

            if (batch is null)
            {
                return true;
            }

            UploadOutcome outcome;
            try
            {
                outcome = await _uploader.UploadAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception exception)
            {
                FlushFailed();
                Log.UploadFailed(_logger, batch.Length, exception);
                return false;
            }

            if (outcome != UploadOutcome.Uploaded)
            {
                FlushFailed();
                Log.NoServer(_logger, Pending);
                return false;
            }

            lock (_lock)
            {
                _serverDown = false;

                // After the final flush ran out of time the batch was counted as dropped; it is not counted twice.
                if (_held == batch)
                {
                    _held = null;
                    Interlocked.Add(ref _uploaded, batch.Length);
                }
            }
        }
    }

    private void FlushFailed()
    {
        lock (_lock)
        {
            _serverDown = true;
            Interlocked.Increment(ref _failedFlushes);
        }
    }

    private T[]? TakeBatchLocked()
    {
        if (_closed)
        {
            return null;
        }

        while (_buffer.Count < _batchSize && _channel.Reader.TryRead(out T? item))
        {
            _buffer.Add(item);
        }

        if (_buffer.Count == 0)
        {
            return null;
        }

        T[] batch = [.. _buffer];
        _buffer.Clear();
        return batch;
    }

    private int CloseAndCountLeftovers()
    {
        lock (_lock)
        {
            _closed = true;
            int left = _held?.Length ?? 0;
            _held = null;
            while (_channel.Reader.TryRead(out _))
            {
                left++;
            }

            Interlocked.Add(ref _droppedAtDispose, left);
            return left;
        }
    }

    private sealed class IntervalTask(UploadQueue<T> owner) : ITimerTask
    {
        public void Run(WheelTimeout timeout) => owner.OnIntervalDue(timeout);
    }

    private sealed class EarlyTask(UploadQueue<T> owner) : ITimerTask
    {
        public void Run(WheelTimeout timeout) => owner.OnEarlyDue();
    }
}
