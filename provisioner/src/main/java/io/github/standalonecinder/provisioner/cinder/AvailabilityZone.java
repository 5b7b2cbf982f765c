package io.github.standalonecinder.provisioner.cinder;

public record AvailabilityZone(String name, boolean available) {}
