using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using RegistryKit.InMemory;
using RegistryKit.Testing;

namespace RegistryKit.Tests.PublicApi;

/// <summary>
/// Pins each package's public surface: a reflection dump of every public type and member, compared with a file checked
/// in next to this test. PublicApiAnalyzers is not on the package mirror, so this does its job: any change to the
/// surface fails here and shows up in review as a change to the file.
/// </summary>
/// <remarks>To accept a change, copy the <c>.received.txt</c> file the failure names over the <c>.txt</c> file.</remarks>
public class PublicApiTests
{
    private static readonly NullabilityInfoContext s_nullability = new();

    public static IEnumerable<TestCaseData> Packages()
    {
        yield return new TestCaseData(typeof(ServiceUrl).Assembly).SetArgDisplayNames("RegistryKit");
        yield return new TestCaseData(typeof(InMemoryRegistryServer).Assembly).SetArgDisplayNames("RegistryKit.InMemory");
        yield return new TestCaseData(typeof(ManualTimeProvider).Assembly).SetArgDisplayNames("RegistryKit.Testing");
        yield return new TestCaseData(typeof(RegistryKit.Hosting.ServiceRegistrations).Assembly).SetArgDisplayNames("RegistryKit.Hosting");
        yield return new TestCaseData(typeof(RegistryKit.Etcd.EtcdRegistryTransportFactory).Assembly).SetArgDisplayNames("RegistryKit.Etcd");
    }

    [TestCaseSource(nameof(Packages))]
    public void PublicApi_MatchesTheCheckedInSnapshot(Assembly assembly)
    {
        string name = assembly.GetName().Name!;
        string expectedPath = Path.Combine(SourceDirectory(), name + ".txt");
        string receivedPath = Path.Combine(SourceDirectory(), name + ".received.txt");
        string actual = Dump(assembly);

        string expected = File.Exists(expectedPath) ? File.ReadAllText(expectedPath).ReplaceLineEndings("\n") : string.Empty;
        if (actual == expected)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        string[] added = [.. actual.Split('\n').Except(expected.Split('\n'))];
        string[] removed = [.. expected.Split('\n').Except(actual.Split('\n'))];
        Assert.Fail(
            $"The public API of {name} changed. If that is intended, copy {receivedPath} over {expectedPath}.\n" +
            $"Added:\n  {string.Join("\n  ", added)}\nRemoved:\n  {string.Join("\n  ", removed)}");
    }

    [Test]
    public void Dump_ShowsNullabilityAndDefaults()
    {
        MethodInfo method = typeof(ServiceUrl).GetMethod(nameof(ServiceUrl.TryParse))!;

        Assert.That(Member(method), Is.EqualTo("method public static bool TryParse(string? text, out ServiceUrl? result)"));
    }

    // Found from the repository root, not [CallerFilePath]: CI builds map source paths to /_/ (ContinuousIntegrationBuild).
    private static string SourceDirectory() => Path.Combine(HouseRulesTests.FindRepositoryRoot(), "tests", "RegistryKit.Tests", "PublicApi");

    private static string Dump(Assembly assembly)
    {
        var text = new StringBuilder();
        foreach (Type type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(TypeHeader(type)).Append('\n');
            IEnumerable<string> members = type
                .GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(IsVisible)
                .Where(m => m is not Type)
                .Select(Member)
                .Where(line => line.Length > 0)
                .Order(StringComparer.Ordinal);
            foreach (string member in members)
            {
                text.Append("  ").Append(member).Append('\n');
            }
        }

        return text.ToString();
    }

    private static bool IsVisible(MemberInfo member) => member switch
    {
        MethodBase m => (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly) && !(m.IsSpecialName && m is MethodInfo),
        FieldInfo f => (f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly) && !f.IsSpecialName,
        PropertyInfo p => p.GetAccessors(nonPublic: true).Any(a => a.IsPublic || a.IsFamily || a.IsFamilyOrAssembly),
        EventInfo e => e.AddMethod is { } add && (add.IsPublic || add.IsFamily),
        _ => false,
    };

    private static string TypeHeader(Type type)
    {
        string kind = type.IsInterface ? "interface"
            : type.IsEnum ? "enum"
            : type.IsValueType ? (type.IsDefined(typeof(IsReadOnlyAttribute)) ? "readonly struct" : "struct")
            : type.IsSubclassOf(typeof(Delegate)) ? "delegate"
            : type.IsAbstract && type.IsSealed ? "static class"
            : type.IsAbstract ? "abstract class"
            : type.IsSealed ? "sealed class"
            : "class";
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) && baseType != typeof(Enum))
        {
            bases.Add(TypeName(baseType));
        }

        bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(TypeName).Order(StringComparer.Ordinal));
        return $"{kind} {TypeName(type, qualified: true)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : string.Empty)}";
    }

    private static string Member(MemberInfo member) => member switch
    {
        ConstructorInfo c => $"ctor {Access(c)}{(c.IsStatic ? "static " : string.Empty)}({Parameters(c)})",
        MethodInfo m => $"method {Access(m)}{Modifiers(m)}{Nullable(s_nullability.Create(m.ReturnParameter), m.ReturnType)} {m.Name}{GenericArguments(m)}({Parameters(m)})",
        PropertyInfo p => $"property {Access(p.GetAccessors(nonPublic: true)[0])}{Nullable(s_nullability.Create(p), p.PropertyType)} {p.Name}{Indexers(p)} {{ {Accessors(p)}}}",
        FieldInfo f => f.DeclaringType!.IsEnum
            ? $"value {f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}"
            : $"field {(f.IsPublic ? "public " : "protected ")}{(f.IsLiteral ? "const " : f.IsStatic ? "static " : string.Empty)}{(f.IsInitOnly ? "readonly " : string.Empty)}{Nullable(s_nullability.Create(f), f.FieldType)} {f.Name}",
        EventInfo e => $"event {TypeName(e.EventHandlerType!)} {e.Name}",
        _ => string.Empty,
    };

    private static string Access(MethodBase method) => method.IsPublic ? "public " : "protected ";

    private static string Modifiers(MethodInfo method) =>
        method.IsStatic ? "static "
        : method.IsAbstract && !method.DeclaringType!.IsInterface ? "abstract "
        : method.IsVirtual && !method.IsFinal && !method.DeclaringType!.IsInterface ? (method.GetBaseDefinition() == method ? "virtual " : "override ")
        : string.Empty;

    private static string Accessors(PropertyInfo property)
    {
        var text = new StringBuilder();
        if (property.GetMethod is { } get && (get.IsPublic || get.IsFamily))
        {
            text.Append("get; ");
        }

        if (property.SetMethod is { } set && (set.IsPublic || set.IsFamily))
        {
            bool init = set.ReturnParameter.GetRequiredCustomModifiers().Any(m => m == typeof(IsExternalInit));
            text.Append(init ? "init; " : "set; ");
        }

        return text.ToString();
    }

    private static string Indexers(PropertyInfo property)
    {
        ParameterInfo[] index = property.GetIndexParameters();
        return index.Length == 0 ? string.Empty : $"[{string.Join(", ", index.Select(Parameter))}]";
    }

    private static string GenericArguments(MethodInfo method) =>
        method.IsGenericMethodDefinition ? $"<{string.Join(", ", method.GetGenericArguments().Select(a => a.Name))}>" : string.Empty;

    private static string Parameters(MethodBase method) => string.Join(", ", method.GetParameters().Select(Parameter));

    private static string Parameter(ParameterInfo parameter)
    {
        Type type = parameter.ParameterType;
        string prefix = string.Empty;
        if (type.IsByRef)
        {
            prefix = parameter.IsOut ? "out " : parameter.IsIn ? "in " : "ref ";
            type = type.GetElementType()!;
        }
        else if (parameter.IsDefined(typeof(ParamArrayAttribute)))
        {
            prefix = "params ";
        }

        string text = $"{prefix}{Nullable(s_nullability.Create(parameter), type)} {parameter.Name}";
        if (!parameter.HasDefaultValue)
        {
            return text;
        }

        bool structDefault = parameter.DefaultValue is null && type.IsValueType && System.Nullable.GetUnderlyingType(type) is null;
        return $"{text} = {(structDefault ? "default" : Literal(parameter.DefaultValue))}";
    }

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
    };

    private static string Nullable(NullabilityInfo info, Type type) =>
        TypeName(type) + (!type.IsValueType && info.ReadState == NullabilityState.Nullable ? "?" : string.Empty);

    private static string TypeName(Type type) => TypeName(type, qualified: false);

    private static string TypeName(Type type, bool qualified)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (System.Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying) + "?";
        }

        if (type.IsArray)
        {
            return TypeName(type.GetElementType()!) + "[]";
        }

        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!);
        }

        string name = Keyword(type) ?? (qualified ? type.FullName ?? type.Name : type.Name);
        if (type.IsGenericType)
        {
            int tick = name.IndexOf('`', StringComparison.Ordinal);
            name = (tick >= 0 ? name[..tick] : name) + "<" + string.Join(", ", type.GetGenericArguments().Select(TypeName)) + ">";
        }

        return type.IsNested && !qualified ? TypeName(type.DeclaringType!) + "." + name : name.Replace('+', '.');
    }

    private static string? Keyword(Type type) => type.IsEnum ? null : Type.GetTypeCode(type) switch
    {
        TypeCode.Boolean => "bool",
        TypeCode.Byte => "byte",
        TypeCode.Char => "char",
        TypeCode.Double => "double",
        TypeCode.Int32 => "int",
        TypeCode.Int64 => "long",
        TypeCode.String => "string",
        _ => type == typeof(object) ? "object" : type == typeof(void) ? "void" : null,
    };
}
