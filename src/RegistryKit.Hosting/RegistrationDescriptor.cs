namespace RegistryKit.Hosting;

/// <summary>One <c>AddRegistration</c>: the service registered with the registry of <see cref="RegistryName"/>.</summary>
internal sealed record RegistrationDescriptor(string RegistryName, string Service)
{
    /// <summary>The name of its <see cref="ServiceRegistrationOptions"/>.</summary>
    public string OptionsName => $"{RegistryName}/{Service}";

    /// <summary>Its configuration section.</summary>
    public string Section => string.IsNullOrEmpty(RegistryName)
        ? $"RegistryKit:Registrations:{Service}"
        : $"RegistryKit:Registries:{RegistryName}:Registrations:{Service}";
}
