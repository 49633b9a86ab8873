# Multi-stage: the SDK image builds, the small ASP.NET runtime image runs as a non-root user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props FlagService.csproj ./
# ReadyToRun needs a runtime identifier (FlagService.csproj): precompiled code starts faster.
ARG RID=linux-x64
RUN dotnet restore FlagService.csproj -r $RID
COPY . .
RUN dotnet publish FlagService.csproj -c Release -r $RID --self-contained false -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
# Metrics__Port (docker-compose.scale.yml uses 9464) serves /metrics apart from the API.
EXPOSE 8080
# The image's built-in unprivileged user.
USER app
ENTRYPOINT ["dotnet", "FlagService.dll"]
