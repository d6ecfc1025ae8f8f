namespace RegistryKit.Hosting;

/// <summary>Where other services reach this one: the host and port put into the registered URL.</summary>
public sealed record AdvertisedAddress
{
    /// <summary>Creates an address.</summary>
    /// <param name="host">The host name or IP address others use, such as <c>10.0.0.7</c> or <c>orders-3.internal</c>.</param>
    /// <param name="port">The port, from 0 (none, for a worker that takes no calls) to 65535.</param>
    /// <exception cref="ArgumentException"><paramref name="host"/> is blank.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is outside 0–65535.</exception>
    public AdvertisedAddress(string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Host = host;
        Port = port;
    }

    /// <summary>Gets the host name or IP address.</summary>
    public string Host { get; }

    /// <summary>Gets the port; 0 for none.</summary>
    public int Port { get; }
}
