namespace RegistryKit.Registration;

/// <summary>Flink's <c>cluster.registration.*</c> defaults, pinned by a test.</summary>
internal static class RetryingRegistrationDefaults
{
    public static readonly TimeSpan InitialTimeout = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan MaxTimeout = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan ErrorDelay = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan RefusedDelay = TimeSpan.FromSeconds(30);
}
