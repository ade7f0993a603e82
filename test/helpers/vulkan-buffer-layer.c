/*
 * VK_LAYER_TSUZUKI_buffer_log: a Vulkan layer for tests that appends one line per vkCreateBuffer
 * ("create <handle> <size> <usage>") and per vkDestroyBuffer of a buffer ("destroy <handle>") to the file named by
 * TSUZUKI_VK_BUFFER_LOG, and passes every call down the chain unchanged. onnxruntime's WebGPU provider
 * (Dawn) neither counts nor logs the GPU buffers it creates; the Vulkan calls under it are where they can be seen.
 * Built and enabled by vulkan-buffers.ts.
 *
 * Dispatch: the next layer's (or the driver's) entry points are kept per instance and per device in small tables
 * keyed by the handle's dispatch pointer, as the loader's layer interface prescribes, so a process with more than
 * one instance or device (Dawn may make one instance per Vulkan driver kind) still calls each one's own chain.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#define EXPORT __attribute__((visibility("default")))
#define SLOTS 32

typedef void *Key;
static Key key_of(const void *handle) { return *(Key *)handle; }

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
  Key key;
  PFN_vkGetInstanceProcAddr gipa;
  PFN_vkDestroyInstance destroy;
} instances[SLOTS];

static struct {
  Key key;
  PFN_vkGetDeviceProcAddr gdpa;
  PFN_vkDestroyDevice destroy;
  PFN_vkCreateBuffer create_buffer;
  PFN_vkDestroyBuffer destroy_buffer;
} devices[SLOTS];

/* The slot of the instance or device whose dispatch pointer is `key` (NULL: a free slot), or -1. */
static int instance_slot(Key key) {
  for (int i = 0; i < SLOTS; i++)
    if (instances[i].key == key) return i;
  return -1;
}
static int device_slot(Key key) {
  for (int i = 0; i < SLOTS; i++)
    if (devices[i].key == key) return i;
  return -1;
}

/* Called with `lock` held, so that lines from several threads never interleave. */
static void log_line(const char *line) {
  const char *path = getenv("TSUZUKI_VK_BUFFER_LOG");
  FILE *f = path ? fopen(path, "a") : NULL;
  if (!f) return;
  fputs(line, f);
  fclose(f);
}

static VkLayerInstanceCreateInfo *instance_link(const VkInstanceCreateInfo *info) {
  for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
    VkLayerInstanceCreateInfo *l = (VkLayerInstanceCreateInfo *)s;
    if (s->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && l->function == VK_LAYER_LINK_INFO) return l;
  }
  return NULL;
}

static VkLayerDeviceCreateInfo *device_link(const VkDeviceCreateInfo *info) {
  for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext) {
    VkLayerDeviceCreateInfo *l = (VkLayerDeviceCreateInfo *)s;
    if (s->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && l->function == VK_LAYER_LINK_INFO) return l;
  }
  return NULL;
}

static VKAPI_ATTR VkResult VKAPI_CALL CreateInstance(const VkInstanceCreateInfo *info, const VkAllocationCallbacks *alloc,
                                                     VkInstance *instance) {
  VkLayerInstanceCreateInfo *link = instance_link(info);
  if (!link) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(VK_NULL_HANDLE, "vkCreateInstance");
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;
  VkResult result = create(info, alloc, instance);
  if (result != VK_SUCCESS) return result;
  pthread_mutex_lock(&lock);
  int i = instance_slot(NULL);
  if (i >= 0) {
    instances[i].key = key_of(*instance);
    instances[i].gipa = gipa;
    instances[i].destroy = (PFN_vkDestroyInstance)gipa(*instance, "vkDestroyInstance");
  }
  pthread_mutex_unlock(&lock);
  if (i >= 0) return VK_SUCCESS;
  ((PFN_vkDestroyInstance)gipa(*instance, "vkDestroyInstance"))(*instance, alloc);
  return VK_ERROR_TOO_MANY_OBJECTS;
}

static VKAPI_ATTR void VKAPI_CALL DestroyInstance(VkInstance instance, const VkAllocationCallbacks *alloc) {
  if (!instance) return;
  pthread_mutex_lock(&lock);
  int i = instance_slot(key_of(instance));
  PFN_vkDestroyInstance destroy = i >= 0 ? instances[i].destroy : NULL;
  if (i >= 0) instances[i].key = NULL;
  pthread_mutex_unlock(&lock);
  if (destroy) destroy(instance, alloc);
}

static VKAPI_ATTR VkResult VKAPI_CALL CreateDevice(VkPhysicalDevice gpu, const VkDeviceCreateInfo *info,
                                                   const VkAllocationCallbacks *alloc, VkDevice *device) {
  VkLayerDeviceCreateInfo *link = device_link(info);
  if (!link) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = link->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr gdpa = link->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  PFN_vkCreateDevice create = (PFN_vkCreateDevice)gipa(VK_NULL_HANDLE, "vkCreateDevice");
  link->u.pLayerInfo = link->u.pLayerInfo->pNext;
  VkResult result = create(gpu, info, alloc, device);
  if (result != VK_SUCCESS) return result;
  pthread_mutex_lock(&lock);
  int i = device_slot(NULL);
  if (i >= 0) {
    devices[i].key = key_of(*device);
    devices[i].gdpa = gdpa;
    devices[i].destroy = (PFN_vkDestroyDevice)gdpa(*device, "vkDestroyDevice");
    devices[i].create_buffer = (PFN_vkCreateBuffer)gdpa(*device, "vkCreateBuffer");
    devices[i].destroy_buffer = (PFN_vkDestroyBuffer)gdpa(*device, "vkDestroyBuffer");
  }
  pthread_mutex_unlock(&lock);
  if (i >= 0) return VK_SUCCESS;
  ((PFN_vkDestroyDevice)gdpa(*device, "vkDestroyDevice"))(*device, alloc);
  return VK_ERROR_TOO_MANY_OBJECTS;
}

static VKAPI_ATTR void VKAPI_CALL DestroyDevice(VkDevice device, const VkAllocationCallbacks *alloc) {
  if (!device) return;
  pthread_mutex_lock(&lock);
  int i = device_slot(key_of(device));
  PFN_vkDestroyDevice destroy = i >= 0 ? devices[i].destroy : NULL;
  if (i >= 0) devices[i].key = NULL;
  pthread_mutex_unlock(&lock);
  if (destroy) destroy(device, alloc);
}

static VKAPI_ATTR VkResult VKAPI_CALL CreateBuffer(VkDevice device, const VkBufferCreateInfo *info,
                                                   const VkAllocationCallbacks *alloc, VkBuffer *buffer) {
  pthread_mutex_lock(&lock);
  int i = device_slot(key_of(device));
  PFN_vkCreateBuffer create = i >= 0 ? devices[i].create_buffer : NULL;
  pthread_mutex_unlock(&lock);
  if (!create) return VK_ERROR_INITIALIZATION_FAILED;
  VkResult result = create(device, info, alloc, buffer);
  if (result != VK_SUCCESS) return result;
  char line[96];
  snprintf(line, sizeof line, "create %llx %llu %x\n", (unsigned long long)(uintptr_t)*buffer,
           (unsigned long long)info->size, (unsigned)info->usage);
  pthread_mutex_lock(&lock);
  log_line(line);
  pthread_mutex_unlock(&lock);
  return result;
}

static VKAPI_ATTR void VKAPI_CALL DestroyBuffer(VkDevice device, VkBuffer buffer, const VkAllocationCallbacks *alloc) {
  pthread_mutex_lock(&lock);
  int i = device_slot(key_of(device));
  PFN_vkDestroyBuffer destroy = i >= 0 ? devices[i].destroy_buffer : NULL;
  if (buffer) {
    char line[64];
    snprintf(line, sizeof line, "destroy %llx\n", (unsigned long long)(uintptr_t)buffer);
    log_line(line);
  }
  pthread_mutex_unlock(&lock);
  if (destroy) destroy(device, buffer, alloc);
}

static PFN_vkVoidFunction intercepted(const char *name) {
  static const struct {
    const char *name;
    PFN_vkVoidFunction fn;
  } table[] = {
      {"vkCreateInstance", (PFN_vkVoidFunction)CreateInstance},
      {"vkDestroyInstance", (PFN_vkVoidFunction)DestroyInstance},
      {"vkCreateDevice", (PFN_vkVoidFunction)CreateDevice},
      {"vkDestroyDevice", (PFN_vkVoidFunction)DestroyDevice},
      {"vkCreateBuffer", (PFN_vkVoidFunction)CreateBuffer},
      {"vkDestroyBuffer", (PFN_vkVoidFunction)DestroyBuffer},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (!strcmp(name, table[i].name)) return table[i].fn;
  return NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetDeviceProcAddr(VkDevice device, const char *name) {
  PFN_vkVoidFunction own = intercepted(name);
  if (own && strcmp(name, "vkCreateInstance") && strcmp(name, "vkDestroyInstance") && strcmp(name, "vkCreateDevice"))
    return own;
  pthread_mutex_lock(&lock);
  int i = device_slot(key_of(device));
  PFN_vkGetDeviceProcAddr gdpa = i >= 0 ? devices[i].gdpa : NULL;
  pthread_mutex_unlock(&lock);
  return gdpa ? gdpa(device, name) : NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetInstanceProcAddr(VkInstance instance, const char *name) {
  if (!strcmp(name, "vkGetInstanceProcAddr")) return (PFN_vkVoidFunction)GetInstanceProcAddr;
  if (!strcmp(name, "vkGetDeviceProcAddr")) return (PFN_vkVoidFunction)GetDeviceProcAddr;
  PFN_vkVoidFunction own = intercepted(name);
  if (own) return own;
  if (!instance) return NULL;
  pthread_mutex_lock(&lock);
  int i = instance_slot(key_of(instance));
  PFN_vkGetInstanceProcAddr gipa = i >= 0 ? instances[i].gipa : NULL;
  pthread_mutex_unlock(&lock);
  return gipa ? gipa(instance, name) : NULL;
}

EXPORT VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v) {
  if (v->loaderLayerInterfaceVersion < 2) return VK_ERROR_INITIALIZATION_FAILED;
  v->loaderLayerInterfaceVersion = 2;
  v->pfnGetInstanceProcAddr = GetInstanceProcAddr;
  v->pfnGetDeviceProcAddr = GetDeviceProcAddr;
  v->pfnGetPhysicalDeviceProcAddr = NULL;
  return VK_SUCCESS;
}
