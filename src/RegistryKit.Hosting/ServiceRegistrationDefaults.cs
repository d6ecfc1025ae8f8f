namespace RegistryKit.Hosting;

/// <summary>The defaults of <see cref="ServiceRegistrationOptions"/>, pinned by a test.</summary>
internal static class ServiceRegistrationDefaults
{
    /// <summary>The protocol consumers call the service with.</summary>
    public const string Protocol = "http";

    /// <summary>How long stopping the host waits for a service to be deregistered.</summary>
    public static readonly TimeSpan DeregisterTimeout = TimeSpan.FromSeconds(5);
}
