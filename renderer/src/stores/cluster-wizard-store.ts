import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ClusterInfo, CreateClusterRequest, LoginFormat, ModuleInfo, RequestOf, SlotInfo } from '../../../shared/index';
import { useCall } from '../composables/use-call';
import { loadModulePreference, saveModulePreference } from '../lib/module-preferences';
import { workbench } from '../lib/workbench';
import { useClustersStore } from './clusters-store';

export type WizardStep = 1 | 2 | 3 | 4 | 5;

export interface EnvironmentRow {
  /** Stable key for v-for while rows are added and removed. */
  id: number;
  name: string;
  value: string;
}

let rowSequence = 0;
function row(name = '', value = ''): EnvironmentRow {
  rowSequence += 1;
  return { id: rowSequence, name, value };
}

/**
 * The cluster wizard's form: module, environment, listed slots, chosen tokens, name.
 * It holds no secret: the kmsuser password lives only in the Checks step's input.
 */
export const useClusterWizardStore = defineStore('clusterWizard', () => {
  const step = ref<WizardStep>(1);
  const modulePath = ref('');
  const environment = ref<EnvironmentRow[]>([]);
  // Refusals stay beside the form; nothing the admin typed is reset.
  const listCall = useCall((request: RequestOf<'ListSlots'>) => workbench().hsm.listSlots(request));
  const createCall = useCall((request: CreateClusterRequest) => useClustersStore().create(request));
  const moduleInfo = ref<ModuleInfo | null>(null);
  const slots = ref<SlotInfo[]>([]);
  /** The environment the slots were listed with; creating a cluster uses exactly that. */
  const listedWith = ref<{ modulePath: string; environment: Record<string, string> } | null>(null);
  const selectedSerials = ref<string[]>([]);
  const clusterName = ref('');
  const loginFormat = ref<LoginFormat>('password');
  /** The cluster the Checks and Report steps are about (created here, or opened from the table). */
  const cluster = ref<ClusterInfo | null>(null);

  const environmentRecord = computed((): Record<string, string> => {
    const record: Record<string, string> = {};
    for (const { name, value } of environment.value) if (name.trim() !== '') record[name.trim()] = value;
    return record;
  });

  const selectedSlots = computed(() => slots.value.filter((s) => s.Token !== null && selectedSerials.value.includes(s.Token.SerialNumber)));

  /** A fresh wizard, pre-filled with the last module used or the first module found on this machine. */
  function startNew(suggestedModulePath: string | undefined): void {
    const preference = loadModulePreference();
    step.value = 1;
    modulePath.value = preference?.modulePath ?? suggestedModulePath ?? '';
    environment.value = (preference?.environment ?? [{ name: 'SOFTHSM2_CONF', value: '' }]).map((e) => row(e.name, e.value));
    listCall.error.value = null;
    moduleInfo.value = null;
    slots.value = [];
    listedWith.value = null;
    selectedSerials.value = [];
    clusterName.value = '';
    loginFormat.value = 'password';
    createCall.error.value = null;
    cluster.value = null;
  }

  /** Forgets the cluster of an earlier visit while an existing cluster's Checks page looks its cluster up. */
  function clearCluster(): void {
    cluster.value = null;
    step.value = 4;
  }

  /** Opens the Checks step straight away for an existing cluster. */
  function startChecks(existing: ClusterInfo): void {
    cluster.value = existing;
    step.value = 4;
  }

  function addEnvironmentRow(): EnvironmentRow {
    const added = row();
    environment.value.push(added);
    return added;
  }

  function removeEnvironmentRow(id: number): void {
    environment.value = environment.value.filter((r) => r.id !== id);
  }

  async function listSlots(): Promise<boolean> {
    const request = { ModulePath: modulePath.value.trim(), ModuleEnvironment: { ...environmentRecord.value } };
    const listed = await listCall.run(request);
    if (listed === undefined) return false;
    moduleInfo.value = listed.Module;
    slots.value = listed.Slots;
    listedWith.value = { modulePath: request.ModulePath, environment: request.ModuleEnvironment };
    const present = new Set(listed.Slots.flatMap((s) => (s.Token ? [s.Token.SerialNumber] : [])));
    selectedSerials.value = selectedSerials.value.filter((serial) => present.has(serial));
    saveModulePreference({ modulePath: request.ModulePath, environment: environment.value.map(({ name, value }) => ({ name, value })) });
    return true;
  }

  function toggleSerial(serial: string, selected: boolean): void {
    const others = selectedSerials.value.filter((s) => s !== serial);
    selectedSerials.value = selected ? [...others, serial] : others;
  }

  async function createCluster(): Promise<boolean> {
    if (listedWith.value === null) return false;
    const created = await createCall.run({
      ClusterName: clusterName.value,
      ModulePath: listedWith.value.modulePath,
      ModuleEnvironment: { ...listedWith.value.environment },
      LoginFormat: loginFormat.value,
      // In slot order, as the Name step's summary lists them, not in the order they were ticked: the summary is
      // what the admin confirmed, and the report numbers the HSMs in member order ("HSM 1" = the summary's first).
      Hsms: selectedSlots.value.flatMap((slot) => (slot.Token ? [{ TokenSerial: slot.Token.SerialNumber }] : [])),
    });
    if (created === undefined) return false;
    cluster.value = created;
    step.value = 4;
    return true;
  }

  return {
    step,
    modulePath,
    environment,
    environmentRecord,
    listing: listCall.loading,
    listError: listCall.error,
    moduleInfo,
    slots,
    listedWith,
    selectedSerials,
    selectedSlots,
    clusterName,
    loginFormat,
    creating: createCall.loading,
    createError: createCall.error,
    cluster,
    startNew,
    clearCluster,
    startChecks,
    addEnvironmentRow,
    removeEnvironmentRow,
    listSlots,
    toggleSerial,
    createCluster,
  };
});
