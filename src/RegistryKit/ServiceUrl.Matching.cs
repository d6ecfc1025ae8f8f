namespace RegistryKit;

public sealed partial class ServiceUrl
{
    /// <summary>
    /// Decides whether <paramref name="provider"/> is something this URL, read as a subscription, asks for.
    /// </summary>
    /// <remarks>
    /// The rules are Dubbo's:
    /// <list type="bullet">
    /// <item>the interfaces are equal, or either is <c>*</c>;</item>
    /// <item>the provider's category (default <c>providers</c>) is in this URL's <c>category</c> list: an absent list
    /// means <c>providers</c> only, <c>*</c> means all, and a list with <c>-name</c> entries means all but those;</item>
    /// <item>a provider with <c>enabled=false</c> matches only a subscription with <c>enabled=*</c>;</item>
    /// <item>the group is <c>*</c>, equal, or one of this URL's comma-separated groups;</item>
    /// <item>the version is <c>*</c> or equal;</item>
    /// <item>the classifier is absent, <c>*</c>, or equal.</item>
    /// </list>
    /// Lists are compared entry by entry, never as substrings (group <c>a</c> does not match a subscription to <c>ab</c>).
    /// </remarks>
    /// <param name="provider">The URL a registry notified.</param>
    /// <returns><see langword="true"/> when the provider matches.</returns>
    public bool Matches(ServiceUrl provider)
    {
        ArgumentNullException.ThrowIfNull(provider);

        string consumerInterface = ServiceInterface;
        string providerInterface = provider.ServiceInterface;
        if (consumerInterface != ServiceUrlKeys.AnyValue
            && providerInterface != ServiceUrlKeys.AnyValue
            && !string.Equals(consumerInterface, providerInterface, StringComparison.Ordinal))
        {
            return false;
        }

        if (!CategoryMatches(provider.Category, GetNonEmptyParameter(ServiceUrlKeys.Category)))
        {
            return false;
        }

        if (!provider.GetParameter(ServiceUrlKeys.Enabled, defaultValue: true)
            && GetNonEmptyParameter(ServiceUrlKeys.Enabled) != ServiceUrlKeys.AnyValue)
        {
            return false;
        }

        string? consumerGroup = Group;
        string? providerGroup = provider.Group;
        if (consumerGroup != ServiceUrlKeys.AnyValue
            && !string.Equals(consumerGroup, providerGroup, StringComparison.Ordinal)
            && !ListContains(consumerGroup, providerGroup))
        {
            return false;
        }

        string? consumerVersion = Version;
        if (consumerVersion != ServiceUrlKeys.AnyValue
            && !string.Equals(consumerVersion, provider.Version, StringComparison.Ordinal))
        {
            return false;
        }

        string? consumerClassifier = GetNonEmptyParameter(ServiceUrlKeys.Classifier);
        return consumerClassifier is null
            || consumerClassifier == ServiceUrlKeys.AnyValue
            || string.Equals(consumerClassifier, provider.GetNonEmptyParameter(ServiceUrlKeys.Classifier), StringComparison.Ordinal);
    }

    private static bool CategoryMatches(string category, string? wanted)
    {
        if (wanted is null)
        {
            return category == ServiceUrlKeys.ProvidersCategory;
        }

        if (ListContains(wanted, ServiceUrlKeys.AnyValue))
        {
            return true;
        }

        if (ListHasExclusion(wanted))
        {
            return !ListContains(wanted, string.Concat(ServiceUrlKeys.ExcludePrefix, category));
        }

        return ListContains(wanted, category);
    }

    private static bool ListContains(string? list, string? value)
    {
        if (list is null || string.IsNullOrEmpty(value))
        {
            return false;
        }

        ReadOnlySpan<char> span = list;
        foreach (Range range in span.Split(','))
        {
            if (span[range].Trim().SequenceEqual(value))
            {
                return true;
            }
        }

        return false;
    }

    private static bool ListHasExclusion(string list)
    {
        ReadOnlySpan<char> span = list;
        foreach (Range range in span.Split(','))
        {
            if (span[range].Trim().StartsWith(ServiceUrlKeys.ExcludePrefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
