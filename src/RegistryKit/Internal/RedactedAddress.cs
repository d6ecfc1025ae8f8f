namespace RegistryKit.Internal;

/// <summary>
/// An address as log lines show it: credentials are taken out only when it is formatted, so a disabled log level costs
/// nothing, and a logging provider that keeps structured values never holds the raw address.
/// </summary>
internal readonly struct RedactedAddress(string? address)
{
    /// <inheritdoc/>
    public override string ToString() => Redaction.Address(address);
}
