using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using FlagService.Features.Projects;
using Scalar.AspNetCore;

namespace FlagService.Infrastructure.Http;

public static partial class ApiDocumentation
{
    public const string BearerScheme = "Bearer";
    public const string SdkKeyScheme = "SdkKey";

    public static WebApplicationBuilder AddApiDocumentation(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "FlagService API";
                document.Info.Description = "Management API (JWT) and SDK evaluation API (SDK key).";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "The token from POST /auth/login.",
                };
                document.Components.SecuritySchemes[SdkKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = "X-SDK-Key",
                    Description = "A project's SDK key (sdk_...).",
                };
                return Task.CompletedTask;
            });

            // `conditions` is bound as raw JSON (validated field by field into errors that name the
            // condition), so its shape is described here.
            o.AddSchemaTransformer((schema, context, _) =>
            {
                if (context.JsonTypeInfo.Type == typeof(FlagService.Features.Rules.Conditions))
                {
                    schema.Type = JsonSchemaType.Array;
                    schema.Description = "attribute_match rules only: every condition must match (AND).";
                    schema.Items = ConditionSchema();
                }
                return Task.CompletedTask;
            });

            // Route ids and environments bind through PathId / EnvironmentRef (BindAsync), which the
            // document generator does not describe: the route's own parameters are added here.
            o.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                DescribeRouteValues(operation, context.Description.RelativePath ?? "",
                    metadata.OfType<System.Reflection.MethodInfo>().FirstOrDefault(), metadata.OfType<EnvironmentQueryIsFilter>().Any());
                // The least project role the operation needs, as RequireProjectRole states it.
                if (metadata.OfType<RequiredProjectRole>().LastOrDefault() is { } required)
                {
                    operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                    operation.Extensions["x-required-role"] = new JsonNodeExtension(System.Text.Json.Nodes.JsonValue.Create(required.Role));
                }
                return Task.CompletedTask;
            });

            // Operations that require a JWT say so; SDK operations declare their key themselves.
            o.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                var scheme = metadata.OfType<SdkKeyRequiredAttribute>().Any() ? SdkKeyScheme
                    : metadata.OfType<IAuthorizeData>().Any() ? BearerScheme
                    : null;
                if (scheme is not null)
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [],
                    });
                }
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    private static void DescribeRouteValues(OpenApiOperation operation, string path, System.Reflection.MethodInfo? handler, bool environmentQueryIsFilter)
    {
        operation.Parameters ??= [];
        foreach (System.Text.RegularExpressions.Match match in RouteValueNames().Matches(path))
        {
            var name = match.Groups[1].Value;
            if (operation.Parameters.Any(p => p.Name == name))
            {
                continue;
            }
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Path,
                Required = true,
                Description = name == EnvironmentRef.RouteName ? "The environment's key or id." : null,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = name.EndsWith("Id", StringComparison.Ordinal) ? "uuid" : null },
            });
        }
        // A ProjectScope reads ?environment= as EnvironmentRef does, unless the route's own filter takes it.
        var takesEnvironment = handler?.GetParameters().Any(p => p.ParameterType == typeof(EnvironmentRef)
                                                                  || (p.ParameterType == typeof(ProjectScope) && !environmentQueryIsFilter)) == true;
        if (takesEnvironment && !path.Contains("{" + EnvironmentRef.RouteName + "}", StringComparison.Ordinal))
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = EnvironmentRef.QueryName,
                In = ParameterLocation.Query,
                Description = "An environment's key or id (default: the project's default environment).",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\{(\w+)[^}]*\}")]
    private static partial System.Text.RegularExpressions.Regex RouteValueNames();

    private static OpenApiSchema ConditionSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "attribute", "operator" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["attribute"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "A key of custom_attributes, or user_id / user_email.",
            },
            ["operator"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Enum = [.. FlagService.Features.Evaluation.ConditionOperators.Names.Select(n => (System.Text.Json.Nodes.JsonNode)n!)],
            },
            ["values"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Description = "1 to 1000 strings or numbers; none for exists.",
                Items = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Number | JsonSchemaType.Boolean },
            },
            ["negate"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = false },
            ["ignore_case"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = false },
        },
    };

    public static WebApplication MapApiDocumentation(this WebApplication app)
    {
        app.MapOpenApi();
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference("/docs");
        }
        return app;
    }
}

// Endpoint metadata marking an operation as authenticated by a project's SDK key.
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class SdkKeyRequiredAttribute : Attribute;
