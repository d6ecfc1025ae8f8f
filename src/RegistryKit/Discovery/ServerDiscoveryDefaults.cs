namespace RegistryKit.Discovery;

/// <summary>PowerJob's worker defaults, pinned by a test.</summary>
internal static class ServerDiscoveryDefaults
{
    /// <summary>PowerJob asserts the app 3 times per server.</summary>
    public const int AssertAttempts = 3;

    /// <summary>PowerJob waits 100 ms between tries.</summary>
    public static readonly TimeSpan AssertRetryDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>PowerJob reads for 5 s (and connects within 1 s); one bound covers both here.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    /// <summary>PowerJob rediscovers every 10 s.</summary>
    public static readonly TimeSpan DiscoveryInterval = TimeSpan.FromSeconds(10);

    /// <summary>PowerJob documents 3 (its code uses 5).</summary>
    public const int LostAfterFailedRounds = 3;
}
