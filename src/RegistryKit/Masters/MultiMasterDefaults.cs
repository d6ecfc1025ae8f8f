namespace RegistryKit.Masters;

/// <summary>Spark's standalone Worker defaults, pinned by a test.</summary>
internal static class MultiMasterDefaults
{
    /// <summary><c>spark.worker.timeout</c>; heartbeats go every quarter of it.</summary>
    public static readonly TimeSpan WorkerTimeout = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan InitialRetryInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan ProlongedRetryInterval = TimeSpan.FromSeconds(60);

    public const int InitialRetries = 6;

    public const int TotalRetries = 16;

    public const int MaxParallelRegistrations = 8;

    public const int HeartbeatFailureThreshold = 3;

    /// <summary>One fuzz factor per process, uniform in [0.5, 1.5), so that workers started together spread out (as Spark's).</summary>
    public static readonly double ProcessFuzzFactor = 0.5 + Random.Shared.NextDouble();
}
