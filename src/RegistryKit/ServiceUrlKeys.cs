namespace RegistryKit;

/// <summary>
/// Names of the <see cref="ServiceUrl"/> parameters and values that carry registry concepts.
/// </summary>
public static class ServiceUrlKeys
{
    /// <summary>The service interface; when absent, the URL's path names it.</summary>
    public const string Interface = "interface";

    /// <summary>The service group.</summary>
    public const string Group = "group";

    /// <summary>The service version.</summary>
    public const string Version = "version";

    /// <summary>The classifier a consumer may require of a provider.</summary>
    public const string Classifier = "classifier";

    /// <summary>The category of a registered URL, or the comma-separated categories a subscription wants.</summary>
    public const string Category = "category";

    /// <summary>Whether the registration is removed when its owner goes away (default <see langword="true"/>).</summary>
    public const string Dynamic = "dynamic";

    /// <summary>Whether a failing operation throws instead of retrying in the background (default <see langword="true"/>).</summary>
    public const string Check = "check";

    /// <summary>Whether a provider is enabled (default <see langword="true"/>); a consumer may say <c>*</c> to accept disabled ones.</summary>
    public const string Enabled = "enabled";

    /// <summary>Further <c>host:port</c> endpoints of a registry, comma-separated.</summary>
    public const string Backup = "backup";

    /// <summary>The application a URL belongs to.</summary>
    public const string Application = "application";

    /// <summary>A timestamp parameter; volatile, so it never makes two registry addresses differ.</summary>
    public const string Timestamp = "timestamp";

    /// <summary>The protocol of a consumer's own URL.</summary>
    public const string ConsumerProtocol = "consumer";

    /// <summary>The protocol of the URL that stands for an emptied category.</summary>
    public const string EmptyProtocol = "empty";

    /// <summary>The category of providers, the default category.</summary>
    public const string ProvidersCategory = "providers";

    /// <summary>The category of consumers.</summary>
    public const string ConsumersCategory = "consumers";

    /// <summary>The category of routing rules.</summary>
    public const string RoutersCategory = "routers";

    /// <summary>The category of configuration overrides.</summary>
    public const string ConfiguratorsCategory = "configurators";

    /// <summary>The wildcard value: any interface, group, version, classifier or category.</summary>
    public const string AnyValue = "*";

    /// <summary>The prefix that excludes a category in a subscription's category list (<c>-routers</c>).</summary>
    public const string ExcludePrefix = "-";
}
