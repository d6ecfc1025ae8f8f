namespace RegistryKit.Hosting;

/// <summary>A snapshot of one hosted registration.</summary>
/// <param name="RegistryName">The registry's name (empty for the default registry).</param>
/// <param name="Service">The service.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Url">The URL registered (credentials never shown), once known.</param>
/// <param name="Error">Why it failed, when <paramref name="State"/> is <see cref="RegistrationState.Failed"/>.</param>
public sealed record ServiceRegistrationStatus(string RegistryName, string Service, RegistrationState State, ServiceUrl? Url, string? Error);
