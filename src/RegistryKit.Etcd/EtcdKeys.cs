using System.Text;

namespace RegistryKit.Etcd;

/// <summary>
/// The key layout: <c>{root}/{service interface}/{category}/{full URL}</c>, each part percent-encoded (so a <c>/</c> in a
/// service name cannot reach another service's keys), as the in-memory registry lays them out.
/// </summary>
internal sealed class EtcdKeys
{
    private readonly string _root;

    public EtcdKeys(string root)
    {
        // "/registrykit" and "/registrykit/" are one root; each segment of a nested root ("/a/b") stays as given.
        _root = root.TrimEnd('/') + "/";
    }

    /// <summary>Gets the root, ending with <c>/</c>.</summary>
    public string Root => _root;

    public byte[] KeyOf(ServiceUrl url) =>
        Encoding.UTF8.GetBytes(string.Concat(_root, Uri.EscapeDataString(url.ServiceInterface), "/", Uri.EscapeDataString(url.Category), "/", Uri.EscapeDataString(url.ToFullString())));

    /// <summary>The prefix a subscription watches: its service's keys, or the whole root for <c>*</c>.</summary>
    public byte[] PrefixOf(ServiceUrl subscription) =>
        Encoding.UTF8.GetBytes(
            subscription.ServiceInterface == ServiceUrlKeys.AnyValue
                ? _root
                : string.Concat(_root, Uri.EscapeDataString(subscription.ServiceInterface), "/"));

    /// <summary>
    /// The <c>range_end</c> that makes a range or watch cover every key starting with <paramref name="prefix"/>: the
    /// prefix with its last byte below 0xFF incremented and the rest cut; all 0xFF means "to the end" (<c>\0</c>).
    /// </summary>
    public static byte[] RangeEndOf(byte[] prefix)
    {
        for (int i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xFF)
            {
                byte[] end = prefix[..(i + 1)];
                end[i]++;
                return end;
            }
        }

        return [0];
    }
}
