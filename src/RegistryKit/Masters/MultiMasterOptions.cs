using RegistryKit.Internal;

namespace RegistryKit.Masters;

/// <summary>Settings of a <see cref="MultiMasterRegistration"/>; every number is Spark's by default.</summary>
public sealed class MultiMasterOptions
{
    /// <summary>Gets or sets how long a master waits for a worker's heartbeat; heartbeats are sent every quarter of it.</summary>
    /// <value>The default is 60 seconds (<c>spark.worker.timeout</c>). At least one second.</value>
    public TimeSpan WorkerTimeout { get; set; } = MultiMasterDefaults.WorkerTimeout;

    /// <summary>Gets or sets the interval of the first retries, before fuzzing.</summary>
    /// <value>The default is 10 seconds. At least one second (the fuzzed interval is rounded to whole seconds, as Spark's).</value>
    public TimeSpan InitialRetryInterval { get; set; } = MultiMasterDefaults.InitialRetryInterval;

    /// <summary>Gets or sets the interval of the later retries, before fuzzing.</summary>
    /// <value>The default is 60 seconds. Not below <see cref="InitialRetryInterval"/>.</value>
    public TimeSpan ProlongedRetryInterval { get; set; } = MultiMasterDefaults.ProlongedRetryInterval;

    /// <summary>Gets or sets how many retries use the initial interval.</summary>
    /// <value>The default is 6. From 0 to <see cref="TotalRetries"/>.</value>
    public int InitialRetries { get; set; } = MultiMasterDefaults.InitialRetries;

    /// <summary>Gets or sets how many retries are made before giving up (and telling the host).</summary>
    /// <value>The default is 16. Positive.</value>
    public int TotalRetries { get; set; } = MultiMasterDefaults.TotalRetries;

    /// <summary>
    /// Gets or sets the factor both intervals are multiplied by (then rounded to whole seconds), so workers started
    /// together do not retry together.
    /// </summary>
    /// <value>The default is <see langword="null"/>: one random factor per process in [0.5, 1.5), as Spark's. In [0.5, 1.5) when set.</value>
    public double? FuzzFactor { get; set; }

    /// <summary>Gets or sets how many masters are asked at once.</summary>
    /// <value>The default is 8. Positive.</value>
    public int MaxParallelRegistrations { get; set; } = MultiMasterDefaults.MaxParallelRegistrations;

    /// <summary>Gets or sets after how many consecutive failed heartbeats the active master is lost.</summary>
    /// <value>The default is 3. Positive.</value>
    public int HeartbeatFailureThreshold { get; set; } = MultiMasterDefaults.HeartbeatFailureThreshold;

    /// <summary>A copy, so that changes made to these options after they were handed over take no effect.</summary>
    internal MultiMasterOptions Clone() => (MultiMasterOptions)MemberwiseClone();

    /// <summary>Throws when a setting is out of range, naming it and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        OptionsGuard.Require(nameof(MultiMasterOptions), WorkerTimeout >= TimeSpan.FromSeconds(1), nameof(WorkerTimeout), WorkerTimeout, "must be at least one second");
        OptionsGuard.Require(nameof(MultiMasterOptions), InitialRetryInterval >= TimeSpan.FromSeconds(1), nameof(InitialRetryInterval), InitialRetryInterval, "must be at least one second");
        OptionsGuard.Require(nameof(MultiMasterOptions), ProlongedRetryInterval >= InitialRetryInterval, nameof(ProlongedRetryInterval), ProlongedRetryInterval, "must not be below InitialRetryInterval");
        OptionsGuard.Require(nameof(MultiMasterOptions), TotalRetries > 0, nameof(TotalRetries), TotalRetries, "must be positive");
        OptionsGuard.Require(nameof(MultiMasterOptions), InitialRetries >= 0 && InitialRetries <= TotalRetries, nameof(InitialRetries), InitialRetries, "must be from 0 to TotalRetries");
        OptionsGuard.Require(nameof(MultiMasterOptions), FuzzFactor is null or (>= 0.5 and < 1.5), nameof(FuzzFactor), FuzzFactor, "must be at least 0.5 and below 1.5, or null for a random one per process");
        OptionsGuard.Require(nameof(MultiMasterOptions), MaxParallelRegistrations > 0, nameof(MaxParallelRegistrations), MaxParallelRegistrations, "must be positive");
        OptionsGuard.Require(nameof(MultiMasterOptions), HeartbeatFailureThreshold > 0, nameof(HeartbeatFailureThreshold), HeartbeatFailureThreshold, "must be positive");
    }
}
