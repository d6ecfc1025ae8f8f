using RegistryKit.Reporting;

namespace RegistryKit.Samples.CustomTransport.Master;

/// <summary>
/// The workers a master knows, as a Spark master keeps them: registered by id, kept alive by heartbeats, forgotten after
/// <see cref="MasterServerOptions.WorkerTimeout"/> without one. Each heartbeat may carry a health report.
/// </summary>
/// <remarks>
/// Liveness is judged by when heartbeats arrive on this master's clock, never by a time the worker wrote; reports are
/// ordered by their sequence within one incarnation, and a new incarnation is a restart (docs/reporting.md).
/// </remarks>
internal sealed class WorkerTable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly MasterServerOptions _options;
    private readonly Dictionary<string, Worker> _workers = new(StringComparer.Ordinal);
    private long _staleReports;

    public WorkerTable(TimeProvider time, MasterServerOptions options)
    {
        _time = time;
        _options = options;
    }

    /// <summary>Gets the reports ignored because the worker had already sent a newer one.</summary>
    public long StaleReports => Interlocked.Read(ref _staleReports);

    /// <summary>Registers a worker: <see cref="MasterProtocol.Registered"/>, <see cref="MasterProtocol.Duplicate"/> when it was known, or <see cref="MasterProtocol.Standby"/>.</summary>
    public string Register(string workerId)
    {
        if (_options.Standby)
        {
            return MasterProtocol.Standby;
        }

        lock (_lock)
        {
            ForgetSilentLocked();
            if (_workers.TryGetValue(workerId, out Worker? known))
            {
                known.LastHeartbeat = _time.GetTimestamp();
                return MasterProtocol.Duplicate;
            }

            _workers.Add(workerId, new Worker(_time.GetTimestamp()));
            return MasterProtocol.Registered;
        }
    }

    /// <summary>Records a heartbeat: <see cref="MasterProtocol.Ok"/>, or <see cref="MasterProtocol.Reconnect"/> for a worker this master does not know (as Spark's master answers).</summary>
    public string Heartbeat(string workerId, HealthReport? report)
    {
        lock (_lock)
        {
            ForgetSilentLocked();
            if (_options.Standby || !_workers.TryGetValue(workerId, out Worker? worker))
            {
                return MasterProtocol.Reconnect;
            }

            worker.LastHeartbeat = _time.GetTimestamp();
            worker.Heartbeats++;
            if (report is not null)
            {
                if (worker.Report is { } previous && previous.Incarnation == report.Incarnation && previous.Sequence >= report.Sequence)
                {
                    Interlocked.Increment(ref _staleReports);
                }
                else
                {
                    worker.Report = report;
                    worker.Reports++;
                }
            }

            return MasterProtocol.Ok;
        }
    }

    /// <summary>Gets what the master knows of each worker.</summary>
    public IReadOnlyList<WorkerView> Snapshot()
    {
        lock (_lock)
        {
            ForgetSilentLocked();
            return [.. _workers.OrderBy(w => w.Key, StringComparer.Ordinal)
                .Select(w => new WorkerView(w.Key, w.Value.Heartbeats, w.Value.Reports, _time.GetElapsedTime(w.Value.LastHeartbeat).TotalSeconds, w.Value.Report))];
        }
    }

    /// <summary>Forgets every worker, as a restarted master.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _workers.Clear();
        }
    }

    private void ForgetSilentLocked()
    {
        foreach (string id in _workers.Where(w => _time.GetElapsedTime(w.Value.LastHeartbeat) > _options.WorkerTimeout).Select(w => w.Key).ToList())
        {
            _workers.Remove(id);
        }
    }

    private sealed class Worker(long registered)
    {
        public long LastHeartbeat { get; set; } = registered;

        public long Heartbeats { get; set; }

        public long Reports { get; set; }

        public HealthReport? Report { get; set; }
    }
}
