namespace RegistryKit.Hosting;

/// <summary>
/// How the hosted registration describes this service: the URL it registers is
/// <c>{Protocol}://{Host}:{Port}/{service}?application=…&amp;group=…&amp;version=…&amp;{Parameters}</c>.
/// </summary>
/// <remarks>
/// Bound from configuration section <c>RegistryKit:Registrations:{service}</c> (for a named registry,
/// <c>RegistryKit:Registries:{name}:Registrations:{service}</c>); code given to <c>AddRegistration</c> wins.
/// </remarks>
public sealed class ServiceRegistrationOptions
{
    /// <summary>Gets or sets the protocol consumers call the service with.</summary>
    /// <value>The default is <c>http</c>. A URL scheme.</value>
    public string Protocol { get; set; } = ServiceRegistrationDefaults.Protocol;

    /// <summary>Gets or sets the host others reach this service on.</summary>
    /// <value>
    /// The default is <see langword="null"/>: the <see cref="IAdvertisedAddressProvider"/>'s host when one is registered,
    /// else this machine's host name.
    /// </value>
    public string? Host { get; set; }

    /// <summary>Gets or sets the port others reach this service on.</summary>
    /// <value>
    /// The default is <see langword="null"/>: the <see cref="IAdvertisedAddressProvider"/>'s port, and one must then be
    /// registered. From 0 (none) to 65535.
    /// </value>
    public int? Port { get; set; }

    /// <summary>Gets or sets the service group, if the service has one.</summary>
    public string? Group { get; set; }

    /// <summary>Gets or sets the service version, if the service has one.</summary>
    public string? Version { get; set; }

    /// <summary>Gets more URL parameters to register, such as <c>weight</c> or <c>zone</c>.</summary>
    public IDictionary<string, string> Parameters { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets how long stopping the host waits for this service to be deregistered.</summary>
    /// <value>The default is 5 seconds. Not negative.</value>
    public TimeSpan DeregisterTimeout { get; set; } = ServiceRegistrationDefaults.DeregisterTimeout;
}
