namespace RegistryKit.Hosting;

/// <summary>
/// Tells the hosted registration where this service is reached, once the host has started (so a web server's bound
/// port is known). Register one in the container to supply what <see cref="ServiceRegistrationOptions.Host"/> and
/// <see cref="ServiceRegistrationOptions.Port"/> leave unset.
/// </summary>
/// <example>
/// With ASP.NET Core, the server's first bound address:
/// <code>
/// sealed class KestrelAddress(IServer server) : IAdvertisedAddressProvider
/// {
///     public ValueTask&lt;AdvertisedAddress&gt; GetAddressAsync(CancellationToken cancellationToken)
///     {
///         var uri = new Uri(server.Features.Get&lt;IServerAddressesFeature&gt;()!.Addresses.First());
///         return ValueTask.FromResult(new AdvertisedAddress(Dns.GetHostName(), uri.Port));
///     }
/// }
/// </code>
/// </example>
public interface IAdvertisedAddressProvider
{
    /// <summary>Returns the address to advertise. Called once per registration, after the host has started.</summary>
    /// <param name="cancellationToken">Cancelled when the host stops.</param>
    /// <returns>The address.</returns>
    ValueTask<AdvertisedAddress> GetAddressAsync(CancellationToken cancellationToken);
}
